// The tests' nginx helpers are devkit's, which `npm run start:cluster` runs too.
export { block, deployConf, edgeConf, maps, startNginx, startNginxHttp, type Nginx } from '@sky/devkit';
