// The Chinese strings of the status page (t('statusPage.…')), added by its chunk.
import { addFeatureStrings } from '.';
import statusZh from './status.zh-CN.json';

addFeatureStrings('statusPage', statusZh);
