/**
 * The only globals the pure layers use that ES2022 does not define: the WHATWG Encoding API
 * (every JS runtime has it; the protocol codes VERSION's JSON with it). tsconfig.pure.json
 * checks the pure layers against ES2022 plus this file and nothing of Node's, so a Node API
 * there fails to compile. The main build gets these from @types/node instead.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}

declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
