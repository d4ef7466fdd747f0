// The education bureau's viewing dashboard (issue 7).
export function Dashboard() {
  return null;
}
