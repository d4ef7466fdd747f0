// Teacher studio: go live from the browser (issue 5).
export function TeacherStudio() {
  return null;
}
