import { z } from 'zod';

// An absolute path (POSIX, or a Windows drive) standing as its own word in a tool's message.
const ABSOLUTE_PATH = /(^|[\s('"=[])((?:[A-Za-z]:\\|\/)[^\s'"()[\]]*?)(:\s|(?=[\s'"()\],;]|$))/g;

/**
 * The reason a user reads, from a tool's message (ffprobe, ffmpeg, the file system): no path of the
 * server. `<path>: <message>` keeps the message; any other absolute path keeps only its file name.
 */
export function withoutServerPaths(message: string): string {
  return message.replace(ABSOLUTE_PATH, (_m, before: string, path: string, colon: string) => {
    if (colon) return before;
    const name = path.split(/[\\/]/).filter(Boolean).pop();
    return `${before}${name ?? ''}`;
  });
}

/** A failure reason as it travels to users (transcode results): stripped of server paths on the way. */
export const FailureReason = z.string().transform(withoutServerPaths);
