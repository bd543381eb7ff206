import type { StackValidationPolicy } from "@pulumi/policy";

import { schemaOf, thresholds } from "../lib/config";
import { violation } from "../lib/message";
import { inModes } from "../lib/policy";
import { longestGapHours, showHours } from "../lib/time";
import { list } from "../lib/values";
import { dataSchedules } from "../lib/velero";

/** At least one running schedule whose longest gap between runs is within `maxBackupIntervalHours`. */
export const veleroScheduleFrequency: StackValidationPolicy = {
    name: "velero-schedule-frequency",
    description:
        "Checks that a protect or recover stack has an unpaused backup schedule that runs at least as often as the configured maximum interval (daily by default).",
    enforcementLevel: "mandatory",
    configSchema: schemaOf("maxBackupIntervalHours"),
    validateStack: inModes(["protect", "recover"], ({ view, mode, args }, report) => {
        const { maxBackupIntervalHours } = thresholds(args);
        const must = `A ${mode} stack must back up at least every ${showHours(maxBackupIntervalHours)}.`;
        const found = dataSchedules(view);
        if (found.length === 0) {
            report(
                violation(
                    must,
                    "no backup schedule (neither a Schedule object nor the velero chart's schedules values)",
                    'Set gitops-dr:backupSchedule (it defaults to "0 2 * * *" in protect and recover).',
                ),
            );
            return;
        }
        const reasons: string[] = [];
        for (const s of found) {
            const gap = s.cron === undefined ? undefined : longestGapHours(s.cron);
            if (s.paused) {
                reasons.push(`${s.where} is paused`);
            } else if (gap === undefined) {
                reasons.push(`${s.where} has the unreadable cron spec ${JSON.stringify(s.cron ?? "")}`);
            } else if (gap > maxBackupIntervalHours) {
                reasons.push(`${s.where} runs only every ${showHours(gap)}`);
            } else {
                return;
            }
        }
        report(
            violation(
                must,
                list(reasons),
                `Set gitops-dr:backupSchedule to a cron expression that runs at least every ${showHours(maxBackupIntervalHours)}, or raise this policy's maxBackupIntervalHours.`,
            ),
        );
    }),
};
