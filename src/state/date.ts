import { captureSync } from '../proc/spawn.js';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * The date as `date` prints it in the C locale, which is what sage-spkg records as
 * `install_date` (`Tue Dec  1 14:55:01 UTC 2026`). `date` itself is asked, for the time zone's
 * abbreviation (CET, EST, ...) that only the C library knows; formatted here if it cannot run.
 */
export function dateAsDatePrints(now = new Date()): string {
  const r = captureSync('date', [`-d@${Math.floor(now.getTime() / 1000)}`], { env: { ...process.env, LC_ALL: 'C' } });
  const out = r.code === 0 ? r.stdout.trim() : ''; // else no GNU date: format it here
  if (out) return out;
  const pad = (n: number) => String(n).padStart(2, '0');
  const off = -now.getTimezoneOffset();
  const zone = off === 0 ? 'UTC' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)}`;
  return `${DAYS[now.getDay()]} ${MONTHS[now.getMonth()]} ${String(now.getDate()).padStart(2, ' ')} ${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())} ${zone} ${now.getFullYear()}`;
}
