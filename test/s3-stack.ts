// The tests' S3 server (OpenStack Swift with s3api) is devkit's, which `npm run start:cluster` runs too.
export { startS3, type S3Stack } from '@sky/devkit';
