// The Chinese strings of Q&A (t('qa.…')): the lesson's panel and answered questions, a TV's phone page.
import { addFeatureStrings } from '.';
import qaZh from './qa.zh-CN.json';

addFeatureStrings('qa', qaZh);
