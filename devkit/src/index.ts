export * from './browser.js';
export * from './harness.js';
export * from './local-infra.js';
export * from './media.js';
export * from './mongo.js';
export * from './ports.js';
export * from './process.js';
export * from './redis.js';
