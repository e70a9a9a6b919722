// Minimal typings for the parts of zstd-codec 0.1.5 that kbak uses (the package ships none).
declare module 'zstd-codec' {
  interface ZstdSimple {
    /** Returns null when zstd reports an error. Throws a string if the Emscripten heap aborts. */
    compress(content: Uint8Array, level?: number): Uint8Array | null;
    /** Returns null on any decode error, or if the frame lacks a content size. */
    decompress(frame: Uint8Array): Uint8Array | null;
  }
  /** Streaming API: frames without a content size; output is collected outside the wasm heap. */
  interface ZstdStreaming {
    /** Returns null when zstd reports an error. */
    compress(content: Uint8Array, level?: number): Uint8Array | null;
    /** Returns null on any decode error. */
    decompress(frame: Uint8Array, sizeHint?: number): Uint8Array | null;
  }
  interface ZstdApi {
    Simple: new () => ZstdSimple;
    Streaming: new () => ZstdStreaming;
  }
  export const ZstdCodec: { run(callback: (zstd: ZstdApi) => void): void };
}
