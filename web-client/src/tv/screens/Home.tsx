import type { GuideProgramme, TvChannel } from '@sky/contracts';
import { useTranslation } from 'react-i18next';
import { useLineup, useNav } from '../context';
import { channelProgrammes, nowAndNext } from '../schedule';
import { Focusable, Header, Notice, pad2, useErrorText } from '../ui';
import { useNow } from '../useNow';

function ChannelTile({
  channel,
  programmes,
  first,
}: {
  channel: TvChannel;
  programmes: GuideProgramme[];
  first: boolean;
}) {
  const { t } = useTranslation();
  const nav = useNav();
  const { now } = nowAndNext(channelProgrammes(programmes, channel.id), useNow());
  return (
    <Focusable
      className="tv-tile channel-tile"
      focusKey={`channel:${channel.id}`}
      autoFocus={first}
      testId={`channel-${channel.id}`}
      onPress={() => nav.push({ name: 'player', playback: { kind: 'live', channelId: channel.id } })}
    >
      <span className="tile-head">
        <span className="tile-number">{pad2(channel.number)}</span>
        <span className="tile-group">{channel.group}</span>
      </span>
      <span className="tile-name">{channel.name}</span>
      {now ? (
        <span className="tile-now">
          <span className="live-dot" aria-label={t('tv.home.onAir')} />
          {now.title}
        </span>
      ) : (
        <span className="tile-now is-empty">{t('tv.home.nothing')}</span>
      )}
    </Focusable>
  );
}

/** Home: the menu, and the channels by number with what each has on air. */
export function HomeScreen() {
  const { t } = useTranslation();
  const nav = useNav();
  const { channels, programmes, error, reload } = useLineup();
  const errorText = useErrorText();
  return (
    <div className="tv-screen tv-home">
      <Header />
      <nav className="tv-menu">
        <Focusable className="tv-menu-item" focusKey="menu:guide" onPress={() => nav.push({ name: 'guide' })}>
          {t('tv.menu.guide')}
        </Focusable>
        <Focusable
          className="tv-menu-item"
          focusKey="menu:ondemand"
          onPress={() => nav.push({ name: 'ondemand' })}
        >
          {t('tv.menu.ondemand')}
        </Focusable>
        <Focusable
          className="tv-menu-item"
          focusKey="menu:settings"
          testId="menu-settings"
          onPress={() => nav.push({ name: 'settings' })}
        >
          {t('tv.menu.settings')}
        </Focusable>
      </nav>
      {error?.status === 401 ? (
        // The operator requires paired boxes (REQUIRE_DEVICE_TOKEN), and this one is not (or no longer).
        <Notice
          tone="error"
          text={t('tv.home.needsPairing')}
          action={t('tv.settings.pair')}
          onAction={() => nav.push({ name: 'pairing' })}
        />
      ) : channels === null ? (
        error ? (
          <Notice
            tone="error"
            text={t('tv.home.loadFailed', { detail: errorText(error) })}
            action={t('tv.retry')}
            onAction={reload}
          />
        ) : (
          <Notice text={t('tv.loading')} />
        )
      ) : channels.length === 0 ? (
        <Notice text={t('tv.home.empty')} />
      ) : (
        <div className="channel-grid">
          {channels.map((c, i) => (
            <ChannelTile key={c.id} channel={c} programmes={programmes} first={i === 0} />
          ))}
        </div>
      )}
    </div>
  );
}
