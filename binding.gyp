{
  "targets": [
    {
      "target_name": "nvgrace_user",
      "sources": [
        "src/native/module.c",
        "src/native/js-values.c",
        "src/native/poll-handle.c",
        "src/native/socket.c",
        "src/native/listen.c",
        "src/native/memory.c",
        "src/native/eventfd.c",
        "src/native/fd.c",
        "src/native/process.c"
      ],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    },
    {
      "target_name": "nvgrace-bench-client",
      "type": "executable",
      "sources": ["bench/native/client.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "nvgrace-bench-floor",
      "type": "executable",
      "sources": ["bench/native/floor.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra"]
    }
  ]
}
