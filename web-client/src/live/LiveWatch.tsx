// Student live page: WebRTC in the interactive class, HLS otherwise (issue 5).
export function LiveWatch() {
  return null;
}
