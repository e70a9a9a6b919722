import { S3Store } from '../../src/store/s3';
import { describeStoreConformance } from '../support/store-conformance';
import { stackEnv, uniqueName } from '../support/stack';

describeStoreConformance('S3 (the stack S3 server)', () => {
  const env = stackEnv();
  return new S3Store({ bucket: env.s3Bucket, prefix: uniqueName('conformance'), endpoint: env.s3Endpoint, region: 'us-east-1', forcePathStyle: true });
});
