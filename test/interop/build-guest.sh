#!/bin/bash
# Build a tiny test guest for vfio-user PCI device servers (NVIDIA 0x10de device).
#   Output: $OUT_DIR/vmlinuz (Debian 12 6.1 kernel) and $OUT_DIR/initramfs.cpio.gz
#   (static busybox + optional lspci with its shared libs + pci.ids).
# Needs: apt-get (bookworm lists), dpkg-deb, cpio, gzip. Re-runnable; debs are cached
# in $OUT_DIR/debs.
set -euo pipefail

OUT_DIR=${OUT_DIR:-/opt/nvgrace-guest}
DEB_DIR=$OUT_DIR/debs
KPKG=${KPKG:-}            # e.g. linux-image-6.1.0-56-amd64; default: what linux-image-amd64 depends on
WITH_LSPCI=${WITH_LSPCI:-1}

mkdir -p "$DEB_DIR"
cd "$DEB_DIR"
if [ -z "$KPKG" ]; then
    KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6\.1/{print $2; exit}')
fi
need=(busybox-static "$KPKG")
[ "$WITH_LSPCI" = 1 ] && need+=(pciutils libpci3 pci.ids)
for p in "${need[@]}"; do
    ls "${p}"_*.deb >/dev/null 2>&1 || apt-get download "$p"
done

X=$(mktemp -d)
ROOT=$(mktemp -d)
trap 'rm -rf "$X" "$ROOT"' EXIT
for d in busybox-static_*.deb "${KPKG}"_*.deb; do dpkg-deb -x "$d" "$X"; done
cp "$X"/boot/vmlinuz-* "$OUT_DIR/vmlinuz"

mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,lib64,lib/x86_64-linux-gnu,usr/share/misc}
cp "$X/bin/busybox" "$ROOT/bin/busybox"
for a in $("$ROOT/bin/busybox" --list); do
    [ -e "$ROOT/bin/$a" ] || ln -s busybox "$ROOT/bin/$a"
done

if [ "$WITH_LSPCI" = 1 ]; then
    L=$(mktemp -d)
    for d in pciutils_*.deb libpci3_*.deb pci.ids_*.deb; do dpkg-deb -x "$d" "$L"; done
    cp "$L/usr/bin/lspci" "$ROOT/usr/bin/lspci"
    cp "$L/usr/bin/setpci" "$ROOT/usr/bin/setpci"
    cp -L "$L"/usr/share/misc/pci.ids "$ROOT/usr/share/misc/pci.ids"
    # libpci from the deb; libc/libkmod/libzstd/liblzma/libcrypto from the (bookworm) host.
    cp -L "$L"/usr/lib/x86_64-linux-gnu/libpci.so.3 "$ROOT/lib/x86_64-linux-gnu/"
    for lib in $(LD_LIBRARY_PATH="$L/usr/lib/x86_64-linux-gnu" ldd "$L/usr/bin/lspci" "$L/usr/bin/setpci" \
                 | awk '/=> \//{print $3} /^\s*\/lib64/{print $1}' | sort -u); do
        case "$lib" in "$L"*) continue;; esac
        if [ "${lib#/lib64/}" != "$lib" ]; then cp -L "$lib" "$ROOT/lib64/"
        else cp -L "$lib" "$ROOT/lib/x86_64-linux-gnu/"; fi
    done
    [ -e "$ROOT/lib64/ld-linux-x86-64.so.2" ] || cp -L /lib64/ld-linux-x86-64.so.2 "$ROOT/lib64/"
    rm -rf "$L"
fi

cat > "$ROOT/init" <<'INIT'
#!/bin/sh
# nvgrace vfio-user test guest init. Markers: "NVG-BOOT", "NVG-RESULT key=value", "NVG-DONE".
# Kernel cmdline options (all optional):
#   nvg.vendor=0x10de         vendor id to look for
#   nvg.device=0x2342         restrict to this device id
#   nvg.bar0=0,0x1498         BAR0 offsets to read (32-bit)
#   nvg.bars=4,2              device-memory BARs to pattern-test
#   nvg.memsize4=0x...        real memory size behind BAR4 (read BAR4+size, expect 0xffffffff)
#   nvg.memsize2=0x...        same for BAR2
#   nvg.probe4=off,off        extra 32-bit reads at BAR4+off (also nvg.probe2=...)
#   nvg.nowrite=1             skip the write/readback tests
#   nvg.shell=1               drop to a shell instead of powering off
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null || mdev -s
echo "NVG-BOOT init started kernel=$(uname -r)"

VENDOR=0x10de; DEVICE=; BAR0OFFS=0,0x1498; BARS=4,2; NOWRITE=0; SHELL=0
MEMSIZE2=; MEMSIZE4=; PROBE2=; PROBE4=
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        nvg.vendor=*) VENDOR=${arg#*=};;
        nvg.device=*) DEVICE=${arg#*=};;
        nvg.bar0=*) BAR0OFFS=${arg#*=};;
        nvg.bars=*) BARS=${arg#*=};;
        nvg.memsize2=*) MEMSIZE2=${arg#*=};;
        nvg.memsize4=*) MEMSIZE4=${arg#*=};;
        nvg.probe2=*) PROBE2=${arg#*=};;
        nvg.probe4=*) PROBE4=${arg#*=};;
        nvg.nowrite=*) NOWRITE=${arg#*=};;
        nvg.shell=*) SHELL=${arg#*=};;
    esac
done

r() { echo "NVG-RESULT $1=$2"; }
hex() { printf '0x%x' "$(($1))"; }
finish() {
    echo "NVG-DONE"
    if [ "$SHELL" = 1 ]; then exec sh; fi
    sync; poweroff -f
    sleep 5; echo o > /proc/sysrq-trigger
}
# devmem read: prints normalized hex or "ERR"
rd() { v=$(devmem "$1" "$2" 2>&1) && printf '0x%0*x' $(($2/4)) "$v" || echo "ERR(${v})"; }
wr() { devmem "$1" "$2" "$3" 2>&1 && echo ok || echo ERR; }

r kernel "$(uname -r)"
r cmdline "\"$(cat /proc/cmdline)\""
ls /sys/bus/pci/devices/ | sed 's/^/NVG-INFO pci-dev /'
for d in /sys/bus/pci/devices/*; do
    echo "NVG-INFO pci ${d##*/} $(cat $d/vendor):$(cat $d/device) class=$(cat $d/class)"
done

BDF=
for d in /sys/bus/pci/devices/*; do
    [ "$(($(cat $d/vendor)))" = "$((VENDOR))" ] || continue
    [ -n "$DEVICE" ] && [ "$(($(cat $d/device)))" != "$((DEVICE))" ] && continue
    BDF=${d##*/}; break
done
if [ -z "$BDF" ]; then
    r found 0
    finish
fi
D=/sys/bus/pci/devices/$BDF
r found 1
r bdf "$BDF"
r vendor "$(cat $D/vendor)"
r device "$(cat $D/device)"
r subsystem_vendor "$(cat $D/subsystem_vendor)"
r subsystem_device "$(cat $D/subsystem_device)"
r class "$(cat $D/class)"
r revision "$(cat $D/revision 2>/dev/null)"
i=0
while read -r s e f; do
    # index 0..5 = BARs, 6 = ROM
    if [ "$((s))" != 0 ] || [ "$((e))" != 0 ]; then
        r "res$i" "start=$s,end=$e,flags=$f,size=$(hex "$e - $s + 1")"
    fi
    eval "BAR${i}_START=$s; BAR${i}_END=$e; BAR${i}_FLAGS=$f"
    i=$((i+1))
done < $D/resource
sed 's/^/NVG-INFO resource-line /' $D/resource
grep -i -e "$BDF" /proc/iomem | sed 's/^/NVG-INFO iomem /'

if [ -x /usr/bin/lspci ]; then
    echo "NVG-INFO lspci-begin"
    lspci -nn -vv -s "$BDF" 2>&1 | grep -v 'Unable to load libkmod' | sed 's/^/NVG-LSPCI /'
    echo "NVG-INFO lspci-end"
fi

cmd_before=$(od -An -tx2 -j4 -N2 $D/config | tr -d ' ')
r cmd_before "0x$cmd_before"
echo 1 > $D/enable 2>/dev/null && r enable ok || r enable ERR
cmd_after=$(od -An -tx2 -j4 -N2 $D/config | tr -d ' ')
r cmd_after "0x$cmd_after"
if [ $((0x$cmd_after & 2)) = 0 ]; then
    # memory decode still off: set it by hand (command |= MEM)
    if [ -x /usr/bin/setpci ]; then setpci -s "$BDF" COMMAND=0x0002:0x0002; fi
    r cmd_fixed "0x$(od -An -tx2 -j4 -N2 $D/config | tr -d ' ')"
fi

# BAR0 registers
if [ "$((BAR0_START))" != 0 ]; then
    for off in $(echo "$BAR0OFFS" | tr ',' ' '); do
        r "bar0_$(hex $off)" "$(rd $(hex "$BAR0_START + $off") 32)"
    done
else
    r bar0 absent
fi

for b in $(echo "$BARS" | tr ',' ' '); do
    eval "S=\$BAR${b}_START; E=\$BAR${b}_END; F=\$BAR${b}_FLAGS"
    if [ "$((S))" = 0 ]; then r "bar$b" absent; continue; fi
    # IORESOURCE_MEM = 0x200; devmem only works on memory BARs
    if [ $((F & 0x200)) = 0 ]; then r "bar$b" "not-a-memory-bar(flags=$F)"; continue; fi
    r "bar${b}_start" "$(hex $S)"
    r "bar${b}_size" "$(hex "$E - $S + 1")"
    r "bar${b}_first32" "$(rd $(hex $S) 32)"
    if [ "$NOWRITE" != 1 ]; then
        P32=0xa5a55a5a; P64=0x0123456789abcdef
        r "bar${b}_w32" "$(wr $(hex $S) 32 $P32)"
        v=$(rd $(hex $S) 32); r "bar${b}_r32" "$v"
        [ "$((v))" = "$((P32))" ] 2>/dev/null && r "bar${b}_rw32" PASS || r "bar${b}_rw32" FAIL
        r "bar${b}_w64" "$(wr $(hex "$S + 8") 64 $P64)"
        v=$(rd $(hex "$S + 8") 64); r "bar${b}_r64" "$v"
        [ "$v" = "$P64" ] && r "bar${b}_rw64" PASS || r "bar${b}_rw64" FAIL
        # the 32-bit pattern must still be there
        v=$(rd $(hex $S) 32); r "bar${b}_r32_again" "$v"
    fi
    eval "MS=\$MEMSIZE$b; PR=\$PROBE$b"
    if [ -n "$MS" ]; then
        if [ "$((MS))" -lt "$((E - S + 1))" ]; then
            v=$(rd $(hex "$S + $MS") 32); r "bar${b}_past_mem" "$v"
            [ "$v" = 0xffffffff ] && r "bar${b}_past_mem_ok" PASS || r "bar${b}_past_mem_ok" FAIL
            v=$(rd $(hex "$S + $MS - 4") 32); r "bar${b}_last_mem_word" "$v"
        else
            r "bar${b}_past_mem" "n/a(memsize>=barsize)"
        fi
    fi
    for off in $(echo "$PR" | tr ',' ' '); do
        r "bar${b}_probe_$(hex $off)" "$(rd $(hex "$S + $off") 32)"
    done
done
dmesg | grep -i -e "$BDF" -e "devmem\|mem access" | tail -30 | sed 's/^/NVG-INFO dmesg /'
finish
INIT
chmod +x "$ROOT/init"

(cd "$ROOT" && find . | cpio -o -H newc --quiet | gzip -9) > "$OUT_DIR/initramfs.cpio.gz.tmp"
mv "$OUT_DIR/initramfs.cpio.gz.tmp" "$OUT_DIR/initramfs.cpio.gz"
echo "built $OUT_DIR/initramfs.cpio.gz ($(du -h "$OUT_DIR/initramfs.cpio.gz" | cut -f1)), kernel $KPKG -> $OUT_DIR/vmlinuz"
