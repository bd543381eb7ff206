/** Parsing of the weekly verification of a protected cluster's backups (components/verify). */
import { CronExpressionParser } from "cron-parser";

import { ConfigReader, q, setCmd } from "./reader";
import type { BackupCheckSettings, Mode, VerifySettings, VolumeDataMode } from "./types";
import { cronProblem } from "./values";

/** Sundays 04:00 UTC: after the daily backup of 02:00 and the weekly tier of 03:00. */
export const DEFAULT_VERIFY_SCHEDULE = "0 4 * * 0";
export const DEFAULT_VERIFY_NAMESPACES_PER_RUN = 3;
export const DEFAULT_VERIFY_MAX_CLAIMS = 10;
/** Hourly, at half past: a backup is checked within an hour of its end, however long it took. */
export const DEFAULT_BACKUP_CHECK_SCHEDULE = "30 * * * *";

/**
 * The longest gap between two runs of `schedule` over the next year's first 120 runs, in seconds: the period
 * within which a run must have passed (a schedule of irregular gaps is judged by its longest one).
 */
export function schedulePeriodSeconds(schedule: string, from = new Date("2026-01-01T00:00:00Z")): number {
    const expr = CronExpressionParser.parse(schedule, { currentDate: from, tz: "UTC" });
    let previous = expr.next().getTime();
    let longest = 0;
    for (let i = 0; i < 120; i++) {
        const next = expr.next().getTime();
        longest = Math.max(longest, next - previous);
        previous = next;
    }
    return Math.round(longest / 1000);
}

/**
 * The verification's settings: protect only; `verifySchedule: off` switches it off. With native snapshots it still
 * runs, with a warning: it proves the backup's Secrets and every namespace without claims, and names the others
 * not verifiable, each with its reason (components/tasks/verify.js `notVerifiable`). Refusing the configuration would
 * switch off that part of the proof too, and a cluster that mixes kinds of storage has the same gap per namespace.
 */
export function parseVerify(r: ConfigReader, mode: Mode, volumeDataMode?: VolumeDataMode): VerifySettings | undefined {
    if (mode !== "protect") {
        const why = "only a protect stack verifies its own backups";
        r.forbidInMode("verifySchedule", mode, why);
        r.forbidInMode("verifyNamespacesPerRun", mode, why);
        r.forbidInMode("verifyMaxClaims", mode, why);
        return undefined;
    }
    const schedule = r.str("verifySchedule") ?? DEFAULT_VERIFY_SCHEDULE;
    const namespacesPerRun =
        r.int("verifyNamespacesPerRun", 1, 50, DEFAULT_VERIFY_NAMESPACES_PER_RUN) ?? DEFAULT_VERIFY_NAMESPACES_PER_RUN;
    const maxClaims = r.int("verifyMaxClaims", 1, 200, DEFAULT_VERIFY_MAX_CLAIMS) ?? DEFAULT_VERIFY_MAX_CLAIMS;
    if (schedule === "off") {
        return undefined;
    }
    const fix = `Fix: \`${setCmd("verifySchedule", `'${DEFAULT_VERIFY_SCHEDULE}'`)}\`, or \`${setCmd("verifySchedule", "off")}\` to switch the verification off.`;
    // The CronJob controller parses it with robfig/cron's ParseStandard like Velero, but refuses a time zone in it
    // (kubernetes `pkg/apis/batch/validation` `validateScheduleFormat`: use spec.timeZone).
    const problem = /^(CRON_)?TZ=/.test(schedule)
        ? "names a time zone, which a CronJob refuses"
        : cronProblem(schedule);
    if (problem !== undefined || schedule.startsWith("@every")) {
        r.problem(
            "verifySchedule",
            `${q(schedule)} ${problem ?? "is an @every interval, which a CronJob does not run on a calendar"}. ${fix}`,
        );
        return undefined;
    }
    if (volumeDataMode === "nativeSnapshots") {
        r.warn(
            "verifySchedule",
            "with volumeDataMode nativeSnapshots the weekly verification cannot bring claims' data back: a native snapshot returns only as a new volume of its PersistentVolume, which a restore into the running cluster leaves out. " +
                "Namespaces with claims are listed in the record's notVerifiable, with the reason, and only the yearly drill proves them; the rest (Secrets, namespaces without claims) is still verified. " +
                `To prove them weekly: \`${setCmd("volumeDataMode", "dataMover")}\`.`,
        );
    }
    const periodSeconds = schedulePeriodSeconds(schedule);
    if (periodSeconds < 86400) {
        r.problem(
            "verifySchedule",
            `${q(schedule)} runs more than once a day: each run restores volumes, so its cost must stay bounded. ${fix}`,
        );
        return undefined;
    }
    return { schedule, periodSeconds, namespacesPerRun, maxClaims };
}

/**
 * The check after each backup that every claim has data: in the stacks that take backups; `backupCheckSchedule:
 * off` switches it off. At least daily, so that no daily backup goes unchecked for long.
 */
export function parseBackupCheck(r: ConfigReader, mode: Mode): BackupCheckSettings | undefined {
    if (mode === "drill") {
        r.forbidInMode("backupCheckSchedule", mode, "a drill takes no backups");
        return undefined;
    }
    const schedule = r.str("backupCheckSchedule") ?? DEFAULT_BACKUP_CHECK_SCHEDULE;
    if (schedule === "off") {
        return undefined;
    }
    const fix = `Fix: \`${setCmd("backupCheckSchedule", `'${DEFAULT_BACKUP_CHECK_SCHEDULE}'`)}\`, or \`${setCmd("backupCheckSchedule", "off")}\` to switch the check off.`;
    const problem = /^(CRON_)?TZ=/.test(schedule)
        ? "names a time zone, which a CronJob refuses"
        : schedule.startsWith("@every")
          ? "is an @every interval, which a CronJob does not run on a calendar"
          : cronProblem(schedule);
    if (problem !== undefined) {
        r.problem("backupCheckSchedule", `${q(schedule)} ${problem}. ${fix}`);
        return undefined;
    }
    const periodSeconds = schedulePeriodSeconds(schedule);
    if (periodSeconds > 86400) {
        r.problem(
            "backupCheckSchedule",
            `${q(schedule)} leaves up to ${Math.round(periodSeconds / 3600)} hours between two runs: a daily backup without data would go unchecked that long. It must run at least daily. ${fix}`,
        );
        return undefined;
    }
    return { schedule, periodSeconds };
}
