import { Channel } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { CURRICULUM } from '../api/curriculum';
import { useApi } from '../api/useApi';

const ChannelList = Channel.array();

/** The curriculum's channels, and one's name in the reader's language with its number: 空中课堂 初一 (7). */
export function useChannels() {
  const { i18n } = useTranslation();
  const zh = (i18n.resolvedLanguage ?? 'zh-CN').startsWith('zh');
  const channels = useApi(`${CURRICULUM}/channels`, ChannelList);
  const byId = new Map((channels.data ?? []).map((c) => [c.id, c]));
  return {
    all: channels.data ?? [],
    get: (id: string) => byId.get(id),
    name: (id: string) => {
      const c = byId.get(id);
      return c ? `${zh ? c.zh : c.en} (${c.number})` : id;
    },
  };
}
