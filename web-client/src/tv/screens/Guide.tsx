import type { ChannelGuide, GuideProgramme } from '@sky/contracts';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useKeys, useLineup, useNav } from '../context';
import { fetchChannelGuide } from '../gateway';
import {
  beijing,
  channelProgrammes,
  dayGroups,
  daysBetween,
  neighbour,
  programmeStates,
  startIndex,
  subjectLabel,
  timeRange,
  type ProgrammeState,
} from '../schedule';
import { Focusable, Header, Notice, pad2, useErrorText } from '../ui';
import { useNow } from '../useNow';

const TOAST_MS = 3000;
/** Live flags and catch-up links move with the clock: a channel's guide is read again after this long. */
const GUIDE_TTL_MS = 60_000;

/** Channel guides read in this page: going back to a channel shows its days at once. */
const read = new Map<string, { at: number; guide: ChannelGuide }>();

/**
 * The focused channel's guide over every day catch-up reaches; until it arrives (or if it cannot be
 * read) the lineup's today and tomorrow stand in.
 */
function useChannelGuide(channelId: string | undefined): ChannelGuide | undefined {
  const [loaded, setLoaded] = useState<ChannelGuide | null>(null);
  useEffect(() => {
    if (channelId === undefined) return;
    let alive = true;
    const load = () =>
      fetchChannelGuide(channelId).then(
        (guide) => {
          read.set(channelId, { at: Date.now(), guide });
          if (alive) setLoaded(guide);
        },
        () => undefined,
      );
    const hit = read.get(channelId);
    if (!hit || Date.now() - hit.at > GUIDE_TTL_MS) void load();
    const timer = window.setInterval(() => void load(), GUIDE_TTL_MS);
    return () => {
      alive = false;
      window.clearInterval(timer);
    };
  }, [channelId]);
  if (channelId === undefined) return undefined;
  return loaded?.channelId === channelId ? loaded : read.get(channelId)?.guide;
}

/**
 * The guide: channels down the left; on the right the focused channel's days — every day catch-up
 * reaches, today and tomorrow — and its programmes. Left/Right change the channel, Up/Down move through
 * its programmes, P+/P− jump a day, OK watches: the live one on the channel, an aired one as catch-up.
 */
export function GuideScreen({ channelId }: { channelId: string | undefined }) {
  const { t, i18n } = useTranslation();
  const nav = useNav();
  const { channels, programmes, error, reload } = useLineup();
  const errorText = useErrorText();
  const [toast, setToast] = useState<string | null>(null);
  const [focusedDay, setFocusedDay] = useState<string | undefined>(undefined);
  const selectedRef = useRef<HTMLLIElement>(null);
  const listRef = useRef<HTMLDivElement>(null);
  const channel = channels?.find((c) => c.id === channelId) ?? channels?.[0];
  const full = useChannelGuide(channel?.id);
  const list = channel ? channelProgrammes(full ? full.programmes : programmes, channel.id) : [];
  const states = programmeStates(list, useNow());
  const start = startIndex(states);
  const groups = dayGroups(list);
  const startDay = list[start] ? beijing(list[start].start).date : undefined;
  const currentDay =
    focusedDay !== undefined && groups.some((g) => g.date === focusedDay) ? focusedDay : startDay;
  const days = full?.days ?? groups.map((g) => g.date);

  /** Focus on the first programme of the day `step` days of programmes away from the one in focus. */
  const jumpDay = (step: 1 | -1) => {
    const at = groups.findIndex((g) => g.date === currentDay);
    const target = groups[at + step];
    const first = target ? list[target.items[0]!] : undefined;
    if (!first) return;
    const key = `programme:${first.channelId}:${first.lessonId}:${first.start}`;
    const el = Array.from(listRef.current?.querySelectorAll<HTMLElement>('[data-focus-key]') ?? []).find(
      (x) => x.getAttribute('data-focus-key') === key,
    );
    el?.focus();
  };

  useKeys((key) => {
    if (!channels || !channel) return false;
    if (key === 'channelUp' || key === 'channelDown') {
      jumpDay(key === 'channelUp' ? -1 : 1);
      return true;
    }
    const step = key === 'right' ? 1 : key === 'left' ? -1 : 0;
    if (step === 0) return false;
    const next = neighbour(channels, channel.id, step);
    if (next) nav.update({ name: 'guide', channelId: next.id });
    setFocusedDay(undefined);
    setToast(null);
    return true;
  });

  useEffect(() => {
    selectedRef.current?.scrollIntoView({ block: 'nearest' });
  }, [channel?.id]);

  // Earlier days arrive above the programme in focus: keep it in the middle of the list.
  const count = list.length;
  useEffect(() => {
    const active = document.activeElement;
    if (active instanceof HTMLElement && listRef.current?.contains(active)) {
      active.scrollIntoView({ block: 'center' });
    }
  }, [count, channel?.id]);

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

  /** 今天 / 昨天 / 明天 where the gateway says which day is today, else the weekday. */
  const dayName = (date: string, weekday: number) => {
    const rel = full ? daysBetween(full.today, date) : undefined;
    if (rel === 0) return t('tv.guide.today');
    if (rel === -1) return t('tv.guide.yesterday');
    if (rel === 1) return t('tv.guide.tomorrow');
    return t(`tv.weekdays.${weekday}`);
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
            {full && full.catchupDays > 0 && (
              <span className="tv-badge is-catchup guide-catchup-days">
                {t('tv.guide.catchupDays', { count: full.catchupDays })}
              </span>
            )}
          </h2>
          <ol className="guide-days" data-testid="guide-days" aria-hidden="true">
            {days.map((d) => {
              const b = beijing(`${d}T12:00:00+08:00`);
              const has = groups.some((g) => g.date === d);
              return (
                <li
                  key={d}
                  className={`guide-day-chip ${d === currentDay ? 'is-current' : ''} ${has ? '' : 'is-empty'}`}
                  data-day={d}
                >
                  <span className="chip-name">{dayName(d, b.weekday)}</span>
                  <span className="chip-date">{t('tv.guide.date', { month: b.month, day: b.day })}</span>
                </li>
              );
            })}
          </ol>
          <div
            className="guide-list"
            ref={listRef}
            onFocus={(e) => {
              const day = e.target.closest('[data-day]')?.getAttribute('data-day') ?? undefined;
              setFocusedDay(day);
            }}
          >
            {list.length === 0 ? (
              <Focusable autoFocus className="guide-row is-empty">
                {t('tv.guide.empty')}
              </Focusable>
            ) : (
              groups.map((g) => (
                <div key={g.date} className="guide-day" data-day={g.date}>
                  <h3 className="guide-day-title">
                    {t('tv.day', { month: g.month, day: g.day, weekday: dayName(g.date, g.weekday) })}
                  </h3>
                  {g.items.map((i) => {
                    const p = list[i]!;
                    const state = states[i]!;
                    const subject = subjectLabel(p, i18n.language);
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
                        {subject && (
                          <span className="guide-subject" data-testid="guide-subject">
                            {subject}
                          </span>
                        )}
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
