/**
 * Velero's time values: Go durations (`ttl: 720h0m0s`) and the cron specs of robfig/cron v3's
 * `ParseStandard`, which Velero's schedule controller uses (five fields, the `@daily`-style descriptors and
 * `@every <duration>`).
 */
import { CronExpressionParser } from "cron-parser";

const GO_UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, µs: 1e-6, ns: 1e-9 };

/** A Go duration in hours (`720h`, `1h30m`, `90m0s`), or undefined when it is not one. */
export function goDurationHours(value: string): number | undefined {
    const trimmed = value.trim();
    if (trimmed === "0") {
        return 0;
    }
    const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== trimmed) {
        return undefined;
    }
    return parts.reduce((sum, p) => sum + (Number(p[1]) * GO_UNITS[p[2]]) / 3600, 0);
}

/** Velero's TTL when a backup template sets none (`pkg/apis/velero/v1` default, 30 days). */
export const VELERO_DEFAULT_TTL_HOURS = 720;

const DESCRIPTOR_HOURS: Record<string, number> = {
    "@hourly": 1,
    "@daily": 24,
    "@midnight": 24,
    "@weekly": 168,
    // The longest month: the gap between two runs on the 1st.
    "@monthly": 31 * 24,
    "@yearly": 366 * 24,
    "@annually": 366 * 24,
};

/**
 * The longest gap between two consecutive runs of a schedule, in hours, over a year of runs (so the gaps of
 * weekly, monthly and day-of-month specs all show), or undefined when the spec is not one Velero accepts.
 */
export function longestGapHours(spec: string): number | undefined {
    const trimmed = spec.trim().replace(/^(CRON_TZ|TZ)=\S+\s+/, "");
    if (trimmed in DESCRIPTOR_HOURS) {
        return DESCRIPTOR_HOURS[trimmed];
    }
    const every = /^@every\s+(\S+)$/.exec(trimmed);
    if (every !== null) {
        const hours = goDurationHours(every[1]);
        return hours === undefined || hours <= 0 ? undefined : hours;
    }
    if (trimmed.split(/\s+/).length !== 5) {
        return undefined;
    }
    try {
        const start = new Date(Date.UTC(2025, 0, 1));
        const end = Date.UTC(2026, 0, 1);
        const runs = CronExpressionParser.parse(trimmed, { currentDate: start, tz: "UTC" });
        let previous = runs.next().getTime();
        let longest = 0;
        // Bounded so that a per-minute schedule costs at most 20000 steps, not half a million.
        for (let i = 0; i < 20000 && previous < end; i++) {
            const next = runs.next().getTime();
            longest = Math.max(longest, next - previous);
            previous = next;
        }
        return longest / 3_600_000;
    } catch {
        return undefined;
    }
}

/** Hours as a reader would say them: `24h`, `168h (7 days)`. */
export function showHours(hours: number): string {
    const rounded = Math.round(hours * 100) / 100;
    return hours >= 48 && hours % 24 === 0 ? `${rounded}h (${hours / 24} days)` : `${rounded}h`;
}
