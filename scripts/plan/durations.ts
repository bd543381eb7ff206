/**
 * Go durations, as Pulumi's `customTimeouts` and Velero's TTLs write them: parsed into minutes and printed the
 * way Go's `time.Duration.String` prints them; and minutes as the plan prints them.
 */

/** A Go duration (`300m`, `1h30m`, `90s`) in minutes. */
export function durationMinutes(duration: string): number {
    const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)];
    if (parts.length === 0 || parts.map((p) => p[0]).join("") !== duration) {
        throw new Error(`not a Go duration: ${JSON.stringify(duration)}`);
    }
    const unit = { h: 60, m: 1, s: 1 / 60, ms: 1 / 60000 } as const;
    return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as keyof typeof unit], 0);
}

/** A duration as Go's `time.Duration.String` prints whole seconds (`720h` -> `720h0m0s`): how Velero shows TTLs. */
export function goDurationString(duration: string): string {
    const seconds = Math.round(durationMinutes(duration) * 60);
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** Minutes as the plan prints them: `5m`, `2.5m`. */
export const minutesText = (m: number): string => (Number.isInteger(m) ? `${m}m` : `${m.toFixed(1)}m`);
