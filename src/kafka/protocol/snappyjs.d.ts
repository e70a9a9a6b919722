// Minimal typings for snappyjs 0.7 (the package ships none): raw snappy blocks.
declare module 'snappyjs' {
  const snappy: {
    compress<T extends Uint8Array>(input: T): T;
    /** Throws when the block is invalid or would decode to more than maxLength bytes. */
    uncompress<T extends Uint8Array>(compressed: T, maxLength?: number): T;
  };
  export default snappy;
}
