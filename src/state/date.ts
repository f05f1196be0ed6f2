import { captureSync } from '../proc/spawn.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The zone's abbreviation per UTC offset (a run may cross a daylight-saving change). */
const zones = new Map<number, string>();

/**
 * The date as `date` prints it in the C locale, which is what sage-spkg records as
 * `install_date` (`Tue Dec  1 14:55:01 UTC 2026`). The time zone's abbreviation (CET, EST, ...)
 * only the C library knows: `date +%Z` is asked once per offset, not once per package; a numeric
 * offset if it cannot run.
 */
export function dateAsDatePrints(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const off = -now.getTimezoneOffset();
  let zone = zones.get(off);
  if (zone === undefined) {
    const r = captureSync('date', [`-d@${Math.floor(now.getTime() / 1000)}`, '+%Z'], { env: { ...process.env, LC_ALL: 'C' } });
    zone = (r.code === 0 && r.stdout.trim()) || (off === 0 ? 'UTC' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`);
    zones.set(off, zone);
  }
  return `${DAYS[now.getDay()]} ${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())} ${zone} ${now.getFullYear()}`;
}
