// The Chinese strings of viewing analytics (t('analytics.…')): the analyst's home and the dashboard.
import { addFeatureStrings } from '.';
import analyticsZh from './analytics.zh-CN.json';

addFeatureStrings('analytics', analyticsZh);
