/**
 * Velero's alert rules, on the metrics the Velero server exports (velero `pkg/metrics/metrics.go`), and the rule
 * group the velero chart renders them into. tests/alerts.test.ts proves every rule with promtool.
 */
import { VELERO_CHART } from "../versions";

/** How urgently an alert needs a person: `critical` pages, `warning` waits for working hours. */
export type AlertSeverity = "critical" | "warning";

/** One Prometheus alerting rule, in the form rule files and the PrometheusRule CRD take. */
export interface AlertRule {
    readonly alert: string;
    readonly expr: string;
    /** How long the expression must hold before the alert fires. Defaults (in Prometheus) to firing at once. */
    readonly for?: string;
    readonly labels: { readonly severity: AlertSeverity };
    /** `summary` says what is wrong; `description` says why it matters and which command to run first. */
    readonly annotations: { readonly summary: string; readonly description: string };
}

/** A named group of rules, as a rule file's `groups` and a PrometheusRule's `spec.groups` hold them. */
export interface AlertRuleGroup {
    readonly name: string;
    readonly rules: readonly AlertRule[];
}

/** The velero CLI pointed at the namespace the alerting series was scraped in (the ServiceMonitor's target). */
const VELERO_CLI = "velero -n {{ $labels.namespace }}";

/** Lists a schedule's backups: Velero labels each Backup with `velero.io/schedule-name`. */
const SCHEDULE_BACKUPS = `\`${VELERO_CLI} backup get --selector velero.io/schedule-name={{ $labels.schedule }}\``;

/**
 * True while `metric` rose within the last hour, including the case `increase()` misses: a series that first
 * appears already above zero (prometheus/prometheus#1673). Velero creates the restore counters of a schedule
 * only in `InitSchedule` for Schedules of its own cluster, and of `""` at start; a restore by `scheduleName` in a
 * cluster without that Schedule (a drill has none) makes its counter appear at 1
 * (velero `pkg/controller/restore_controller.go`, `RegisterRestoreFailed(restore.Spec.ScheduleName)`).
 * When both sides hold, `or` keeps one result per series: set operators match label sets without the metric name.
 * A newly deployed Prometheus may repeat a failure older than an hour once, for at most an hour.
 */
function roseInLastHour(metric: string): string {
    return `increase(${metric}[1h]) > 0 or (${metric} > 0 unless ${metric} offset 1h)`;
}

/** ` of schedule S` when the alerting series has a schedule label, else nothing: a restore of a named backup has none. */
const RESTORE_SCHEDULE = "{{ with $labels.schedule }} of schedule {{ . }}{{ end }}";

/** The restore commands every restore alert ends with. */
const RESTORE_COMMANDS = `Find it with \`${VELERO_CLI} restore get\`, then read \`${VELERO_CLI} restore describe <name> --details\` and \`${VELERO_CLI} restore logs <name>\`.`;

/**
 * A PromQL matcher on the `schedule` label for exactly these Schedules. The regular expression is anchored
 * (Prometheus matches `=~` against the whole value) and every name escaped.
 */
export function scheduleMatcher(schedules: readonly string[]): string {
    return `schedule=~"${schedules.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&")).join("|")}"`;
}

/**
 * Alerts on Velero's own metrics. Backup alerts concern this cluster's own Schedules only, by name: the schedule
 * label is the Backup's `velero.io/schedule-name`, and a recovered cluster also holds the lost cluster's backups,
 * synced from the vault with their labels; Velero computes `velero_backup_last_successful_timestamp` from every
 * Backup in the cluster every minute (`backup_controller.go` `updateTotalBackupMetric`), so the lost cluster's
 * schedule would look stale for ever. An ad-hoc backup (a person's `velero backup create`) has no schedule label
 * and raises none. Restore alerts take every restore: in a recovery or a drill each one matters, and a restore of
 * a named backup has no schedule label. A cluster without Schedules (a drill) gets no backup alerts.
 */
export function alertRules(ownSchedules: readonly string[]): AlertRule[] {
    const own = scheduleMatcher(ownSchedules);
    const backups: AlertRule[] =
        ownSchedules.length === 0
            ? []
            : [
                  {
                      alert: "VeleroBackupFailed",
                      expr: `increase(velero_backup_failure_total{${own}}[1h]) > 0`,
                      labels: { severity: "critical" },
                      annotations: {
                          summary: "Velero backup of schedule {{ $labels.schedule }} failed",
                          description: `A backup of schedule {{ $labels.schedule }} failed in the last hour: its data is not in the vault. List the schedule's backups with ${SCHEDULE_BACKUPS}, then read \`${VELERO_CLI} backup describe <name> --details\` and \`${VELERO_CLI} backup logs <name>\`.`,
                      },
                  },
                  {
                      alert: "VeleroBackupPartiallyFailed",
                      expr: `increase(velero_backup_partial_failure_total{${own}}[1h]) > 0`,
                      labels: { severity: "warning" },
                      annotations: {
                          summary: "Velero backup of schedule {{ $labels.schedule }} partially failed",
                          description: `Some items or volumes of a backup of schedule {{ $labels.schedule }} were not saved, and a restore by schedule skips partially failed backups. List the schedule's backups with ${SCHEDULE_BACKUPS}; \`${VELERO_CLI} backup describe <name> --details\` lists what failed.`,
                      },
                  },
                  {
                      // Velero counts a backup that ended with warn-level log lines (backup_controller.go: Status.Warnings
                      // > 0 -> RegisterBackupWarning); InitSchedule starts the counter at 0, so increase() sees the first.
                      // File-system backup skips a volume whose pod is not running with a warning (pkg/podvolume/
                      // backupper.go): the backup still ends Completed, without that volume's data. A hostPath volume
                      // goes to the catch-all snapshot action and is skipped with no warning of its own
                      // (item_backupper.go takePVSnapshot): only the backup check names it.
                      alert: "VeleroBackupWarnings",
                      expr: `increase(velero_backup_warning_total{${own}}[1h]) > 0`,
                      labels: { severity: "warning" },
                      annotations: {
                          summary: "Velero backup of schedule {{ $labels.schedule }} ended with warnings",
                          description: `A backup of schedule {{ $labels.schedule }} completed with warnings in the last hour. A file-system backup volume whose pod was not running is such a warning, and its data is not in the vault (a hostPath volume raises no warning of its own: the backup check names it). List the schedule's backups with ${SCHEDULE_BACKUPS}, then read the warnings with \`${VELERO_CLI} backup describe <name> --details\` and \`${VELERO_CLI} backup logs <name> | grep level=warning\`.`,
                      },
                  },
                  {
                      // A schedule that has succeeded before: its newest success is older than 25 hours. Velero recomputes the
                      // timestamp from the Backup objects every minute (backup_controller.go, updateTotalBackupMetric), so it
                      // survives a restart of the server.
                      alert: "VeleroNoRecentBackup",
                      expr: `(time() - velero_backup_last_successful_timestamp{${own}}) > 25 * 3600`,
                      for: "15m",
                      labels: { severity: "critical" },
                      annotations: {
                          summary: "No successful backup of schedule {{ $labels.schedule }} for 25 hours",
                          description: `The newest completed backup of schedule {{ $labels.schedule }} is {{ $value | humanizeDuration }} old. Check the schedule with \`${VELERO_CLI} schedule describe {{ $labels.schedule }}\` and its newest backups with ${SCHEDULE_BACKUPS}.`,
                      },
                  },
                  {
                      // A schedule that has never succeeded. Velero creates the per-schedule counters when it sees a Schedule
                      // (metrics.go InitSchedule) but the success timestamp only after a completed backup, so this is the
                      // schedule existing for 25 hours with no success. A cluster with no schedule has neither series and
                      // stays quiet, unlike absent(), which fires in a fresh cluster. Its own name: promtool flags two rules
                      // with one name and the same labels as duplicates.
                      alert: "VeleroScheduleNeverSucceeded",
                      expr: `velero_backup_attempt_total{${own}} unless on (schedule) velero_backup_last_successful_timestamp{${own}}`,
                      for: "25h",
                      labels: { severity: "critical" },
                      annotations: {
                          summary:
                              "Schedule {{ $labels.schedule }} has had no successful backup since it was created 25 hours ago",
                          description: `No backup of schedule {{ $labels.schedule }} has ever completed. Check \`${VELERO_CLI} schedule describe {{ $labels.schedule }}\` (paused, or a cron that never ticks?) and the logs of its backups: ${SCHEDULE_BACKUPS}, then \`${VELERO_CLI} backup logs <name>\`.`,
                      },
                  },
              ];
    return [
        ...backups,
        {
            alert: "VeleroBackupLocationUnavailable",
            expr: "velero_backup_location_status_gauge == 0",
            for: "15m",
            labels: { severity: "critical" },
            annotations: {
                summary: "Velero backup location {{ $labels.backup_location_name }} is unavailable",
                description: `Velero cannot reach the vault through location {{ $labels.backup_location_name }}: no backup is written to it and no backup is synced from it. The status.message of \`${VELERO_CLI} backup-location get {{ $labels.backup_location_name }} -o yaml\` says why.`,
            },
        },
        {
            alert: "VeleroRestoreFailed",
            expr: roseInLastHour("velero_restore_failed_total"),
            labels: { severity: "critical" },
            annotations: {
                summary: `A Velero restore${RESTORE_SCHEDULE} failed`,
                description: `A restore${RESTORE_SCHEDULE} failed in the last hour: its data may not be back. ${RESTORE_COMMANDS}`,
            },
        },
        {
            alert: "VeleroRestorePartiallyFailed",
            expr: roseInLastHour("velero_restore_partial_failure_total"),
            labels: { severity: "warning" },
            annotations: {
                summary: `A Velero restore${RESTORE_SCHEDULE} partially failed`,
                description: `A restore${RESTORE_SCHEDULE} finished in the last hour with errors: some items or volumes were not restored. ${RESTORE_COMMANDS}`,
            },
        },
        {
            // FailedValidation is terminal: Velero never retries it. In a recovery the usual cause is a restore
            // created before its backup was synced from the vault (restore_controller.go validateAndComplete).
            alert: "VeleroRestoreValidationFailed",
            expr: roseInLastHour("velero_restore_validation_failed_total"),
            labels: { severity: "critical" },
            annotations: {
                summary: `A Velero restore${RESTORE_SCHEDULE} failed validation and will never run`,
                description: `A restore${RESTORE_SCHEDULE} was rejected in the last hour. \`${VELERO_CLI} restore describe <name>\` lists the validation errors (find it with \`${VELERO_CLI} restore get\`); check that \`${VELERO_CLI} backup get\` lists the backup, then create a new Restore.`,
            },
        },
    ];
}

/**
 * Name of the one rule group the chart renders: the chart's `velero.name`, which is the chart name because
 * `veleroValues` sets no `nameOverride`.
 */
export const ALERT_RULE_GROUP_NAME: string = VELERO_CHART.name;

/**
 * The rule group exactly as the velero chart renders `metrics.prometheusRule.spec`: the values key holds a list
 * of rules, and the chart's templates/prometheusrule.yaml puts them, as given, under one group named
 * `velero.name` in the PrometheusRule's `spec.groups`.
 */
export function alertRuleGroup(rules: readonly AlertRule[]): AlertRuleGroup {
    return { name: ALERT_RULE_GROUP_NAME, rules: [...rules] };
}

/**
 * The PrometheusRule's `spec` as the chart renders it, which is also a Prometheus rule file: promtool checks the
 * document the cluster gets. The chart renders no PrometheusRule at all when the rule list is empty.
 */
export function prometheusRuleSpec(rules: readonly AlertRule[]): { groups: AlertRuleGroup[] } {
    return { groups: [alertRuleGroup(rules)] };
}
