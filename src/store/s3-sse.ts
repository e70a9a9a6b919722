/** S3 server-side encryption settings, apart from s3.ts so parsing them does not load the AWS SDK. */
export const S3_SSE_MODES = ['AES256', 'aws:kms'] as const;
export interface S3Sse {
  mode: (typeof S3_SSE_MODES)[number];
  /** With aws:kms: the KMS key (ID, ARN or alias); the bucket's default key when absent. */
  kmsKeyId?: string;
}
