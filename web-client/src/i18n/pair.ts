// The Chinese strings of pairing a TV (t('pair.…')): the pairing page and a TV's phone Q&A page.
import { addFeatureStrings } from '.';
import pairZh from './pair.zh-CN.json';

addFeatureStrings('pair', pairZh);
