import type { GuideProgramme } from '@sky/contracts';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useKeys, useLineup, useNav } from '../context';
import {
  channelProgrammes,
  dayGroups,
  neighbour,
  programmeStates,
  startIndex,
  timeRange,
  type ProgrammeState,
} from '../schedule';
import { Focusable, Header, Notice, pad2, useErrorText } from '../ui';
import { useNow } from '../useNow';

const TOAST_MS = 3000;

/**
 * The guide: channels down the left, the focused channel's programmes (the gateway's today and tomorrow)
 * on the right. Left/Right change the channel, Up/Down move through its programmes, OK watches: the live
 * one on the channel, an aired one as catch-up.
 */
export function GuideScreen({ channelId }: { channelId: string | undefined }) {
  const { t } = useTranslation();
  const nav = useNav();
  const { channels, programmes, error, reload } = useLineup();
  const errorText = useErrorText();
  const [toast, setToast] = useState<string | null>(null);
  const selectedRef = useRef<HTMLLIElement>(null);
  const channel = channels?.find((c) => c.id === channelId) ?? channels?.[0];
  const list = channel ? channelProgrammes(programmes, channel.id) : [];
  const states = programmeStates(list, useNow());
  const start = startIndex(states);

  useKeys((key) => {
    if (!channels || !channel) return false;
    const step =
      key === 'right' || key === 'channelUp' ? 1 : key === 'left' || key === 'channelDown' ? -1 : 0;
    if (step === 0) return false;
    const next = neighbour(channels, channel.id, step);
    if (next) nav.update({ name: 'guide', channelId: next.id });
    setToast(null);
    return true;
  });

  useEffect(() => {
    selectedRef.current?.scrollIntoView({ block: 'nearest' });
  }, [channel?.id]);

  useEffect(() => {
    if (toast === null) return;
    const timer = window.setTimeout(() => setToast(null), TOAST_MS);
    return () => window.clearTimeout(timer);
  }, [toast]);

  const open = (p: GuideProgramme, state: ProgrammeState) => {
    switch (state) {
      case 'live':
        nav.push({ name: 'player', playback: { kind: 'live', channelId: p.channelId } });
        return;
      case 'catchup':
        nav.push({ name: 'player', playback: { kind: 'catchup', channelId: p.channelId, programme: p } });
        return;
      case 'upcoming':
        setToast(t('tv.guide.notYet'));
        return;
      case 'ended':
        setToast(t('tv.guide.expired'));
        return;
    }
  };

  if (!channels || !channel) {
    return (
      <div className="tv-screen tv-guide">
        <Header title={t('tv.guide.title')} />
        {error ? (
          <Notice tone="error" text={errorText(error)} action={t('tv.retry')} onAction={reload} />
        ) : (
          <Notice text={channels ? t('tv.home.empty') : t('tv.loading')} />
        )}
      </div>
    );
  }

  return (
    <div className="tv-screen tv-guide">
      <Header title={t('tv.guide.title')} />
      <p className="tv-hint guide-hint">{t('tv.guide.hint')}</p>
      <div className="guide-body">
        <ol className="guide-channels" aria-label={t('tv.guide.title')}>
          {channels.map((c) => (
            <li
              key={c.id}
              ref={c.id === channel.id ? selectedRef : undefined}
              className={`guide-channel ${c.id === channel.id ? 'is-selected' : ''}`}
              aria-current={c.id === channel.id ? 'true' : undefined}
            >
              <span className="guide-channel-number">{pad2(c.number)}</span>
              <span className="guide-channel-name">{c.name}</span>
            </li>
          ))}
        </ol>
        <section className="guide-programmes" data-testid="guide-programmes" data-channel={channel.id}>
          <h2 className="guide-channel-title">
            {pad2(channel.number)} {channel.name}
          </h2>
          <div className="guide-list">
            {list.length === 0 ? (
              <Focusable autoFocus className="guide-row is-empty">
                {t('tv.guide.empty')}
              </Focusable>
            ) : (
              dayGroups(list).map((g) => (
                <div key={g.date} className="guide-day">
                  <h3 className="guide-day-title">
                    {t('tv.day', { month: g.month, day: g.day, weekday: t(`tv.weekdays.${g.weekday}`) })}
                  </h3>
                  {g.items.map((i) => {
                    const p = list[i]!;
                    const state = states[i]!;
                    return (
                      <Focusable
                        key={`${p.lessonId}@${p.start}`}
                        className={`guide-row is-${state}`}
                        focusKey={`programme:${p.channelId}:${p.lessonId}:${p.start}`}
                        autoFocus={i === start}
                        testId={`programme-${p.lessonId}`}
                        onPress={() => open(p, state)}
                      >
                        <span className="guide-time">{timeRange(p)}</span>
                        <span className="guide-title">{p.title}</span>
                        <span className="guide-subject">
                          {t(`tv.subjects.${p.subject}`, { defaultValue: p.subject })}
                        </span>
                        {p.taughtLive && (
                          <span className="tv-badge is-taught-live" data-testid="taught-live">
                            {t('tv.guide.taughtLive')}
                          </span>
                        )}
                        <span className={`tv-badge is-${state}`} data-state={state}>
                          {t(`tv.guide.${state}`)}
                        </span>
                      </Focusable>
                    );
                  })}
                </div>
              ))
            )}
          </div>
        </section>
      </div>
      {toast && (
        <div className="tv-toast" role="status">
          {toast}
        </div>
      )}
    </div>
  );
}
