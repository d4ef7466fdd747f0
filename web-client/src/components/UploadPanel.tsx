import type { Lesson } from '@sky/contracts';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Upload } from 'tus-js-client';
import { freshAccessToken } from '../api/client';

interface Progress {
  sent: number;
  total: number;
  bytesPerSec: number;
}

/**
 * A teacher attaches the lesson video. tus uploads in chunks and resumes after a dropped line (also
 * after a page reload: the browser remembers the upload by the file's fingerprint).
 */
export function UploadPanel({ lesson, onDone }: { lesson: Lesson; onDone: () => void }) {
  const { t } = useTranslation();
  const [progress, setProgress] = useState<Progress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const started = useRef<{ at: number; bytes: number } | null>(null);

  const start = (file: File) => {
    setError(null);
    started.current = { at: performance.now(), bytes: 0 };
    const upload = new Upload(file, {
      endpoint: '/api/uploads',
      chunkSize: 8 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10_000, 20_000],
      metadata: { lessonId: lesson.id, filename: file.name },
      // a fresh access token on every chunk: an upload can outlive one (15 min)
      async onBeforeRequest(req) {
        const token = await freshAccessToken();
        if (token) req.setHeader('Authorization', `Bearer ${token}`);
      },
      // The api's own refusals (problem+json: a lesson being processed, not yours) are final; tus's
      // offset conflicts (409/423 without a problem), server and network errors are retried.
      onShouldRetry(err) {
        const status = err.originalResponse?.getStatus() ?? 0;
        if (/"code":"[A-Z_]+"/.test(err.originalResponse?.getBody() ?? '')) return false;
        return status < 400 || status >= 500 || status === 409 || status === 423;
      },
      onProgress(sent, total) {
        const s = started.current!;
        const secs = (performance.now() - s.at) / 1000;
        setProgress({ sent, total, bytesPerSec: secs > 0 ? (sent - s.bytes) / secs : 0 });
      },
      onSuccess() {
        setProgress(null);
        onDone();
      },
      onError(err) {
        setError(
          err.message.includes('response text')
            ? (/"detail":"([^"]+)"/.exec(err.message)?.[1] ?? err.message)
            : err.message,
        );
      },
    });
    void upload.findPreviousUploads().then((previous) => {
      const last = previous[0];
      if (last) {
        upload.resumeFromPreviousUpload(last);
        started.current = { at: performance.now(), bytes: last.size ?? 0 };
      }
      upload.start();
    });
  };

  const pct = progress && progress.total > 0 ? Math.floor((progress.sent / progress.total) * 100) : 0;
  const eta =
    progress && progress.bytesPerSec > 0
      ? Math.ceil((progress.total - progress.sent) / progress.bytesPerSec)
      : null;
  return (
    <div className="upload-panel">
      {progress ? (
        <div data-testid="upload-progress">
          <progress max={100} value={pct} aria-label={t('upload.progress')} />
          <p className="small muted">
            {t('upload.status', {
              pct,
              speed: (progress.bytesPerSec / 1024 / 1024).toFixed(1),
              eta: eta === null ? '—' : eta,
            })}
          </p>
        </div>
      ) : (
        <label className="btn btn-small upload-button">
          {lesson.status === 'failed' ? t('upload.again') : t('upload.choose')}
          <input
            data-testid="upload-input"
            type="file"
            accept="video/*,audio/*,.mp4,.mov,.mkv,.m4a"
            hidden
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) start(file);
            }}
          />
        </label>
      )}
      {error && (
        <p className="failure" role="alert">
          {t('upload.failed', { detail: error })}
        </p>
      )}
    </div>
  );
}
