import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { stringify } from "yaml";

import { ALERT_RULE_GROUP_NAME, AlertRule, alertRuleGroup, alertRules, prometheusRuleSpec } from "../components/velero";
import { veleroValues, VeleroValuesInput } from "../components/velero";
import { runProgram } from "../engine";
import { STACK_SECRETS } from "./fixtures";

/**
 * Velero's alerts proven with promtool (Prometheus's rule checker and unit tester). Every file promtool reads is
 * generated here from the rules the program deploys, so what passes is what the cluster gets.
 */

const INSTALL_PROMTOOL = "apt-get update && apt-get install -y --no-install-recommends prometheus";

/** The first executable `name` on PATH, or undefined. */
function onPath(name: string): string | undefined {
    for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
        if (dir === "") {
            continue;
        }
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            return candidate;
        } catch {
            // not here; try the next directory
        }
    }
    return undefined;
}

/** What a run of promtool printed, both streams, and how it exited. */
interface PromtoolRun {
    readonly status: number | null;
    readonly stdout: string;
    readonly stderr: string;
}

function promtool(binary: string, args: readonly string[]): PromtoolRun {
    const run = spawnSync(binary, args, { encoding: "utf8", timeout: 120_000 });
    if (run.error !== undefined) {
        throw run.error;
    }
    return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

// ---- promtool unit-test files (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/)

interface ExpectedAlert {
    exp_labels: Record<string, string>;
    exp_annotations: Record<string, string>;
}
interface AlertCheck {
    eval_time: string;
    alertname: string;
    exp_alerts: ExpectedAlert[];
}
interface TestGroup {
    interval: string;
    input_series: { series: string; values: string }[];
    alert_rule_test: AlertCheck[];
}

/** Labels the ServiceMonitor's scrape adds to every Velero server series (prometheus-operator target labels). */
const SCRAPE = {
    container: "velero",
    endpoint: "http-monitoring",
    instance: "10.42.3.17:8085",
    job: "velero",
    namespace: "velero",
    pod: "velero-7c9d5b8f6d-q2xkz",
    service: "velero",
} as const;
const CLI = `velero -n ${SCRAPE.namespace}`;

/** A series selector with the scrape labels; `schedule: ""` is left out, as Prometheus drops empty labels. */
function series(metric: string, labels: Record<string, string> = {}): string {
    const all = Object.entries<string>({ ...SCRAPE, ...labels }).filter(([, v]) => v !== "");
    return `${metric}{${all.map(([k, v]) => `${k}="${v}"`).join(",")}}`;
}

/** promtool's expanding notation for `minutes` one-minute samples of `value`: `axn` is n+1 samples. */
function hold(value: number, minutes: number): string {
    return `${value}x${minutes - 1}`;
}

/** `minutes` one-minute scrapes in which the series did not exist: `_xn` is n missing samples. */
function missing(minutes: number): string {
    return `_x${minutes}`;
}

/** The labels an alert fires with: the series' labels (without the metric name) plus the rule's severity. */
function firing(severity: string, labels: Record<string, string> = {}): Record<string, string> {
    const result: Record<string, string> = { ...SCRAPE, severity };
    for (const [k, v] of Object.entries(labels)) {
        if (v !== "") {
            result[k] = v;
        }
    }
    return result;
}

const H = 60;
const DAILY = "prod-eu-1-daily";
const HOURLY = "prod-eu-1-hourly";
const WEEKLY = "prod-eu-1-weekly";
/** The schedule of the cluster a recovered one replaced: its backups are synced into the new cluster. */
const LOST = "prod-eu-0-daily";
/** Every series below covers 27 hours, past the longest evaluation time. */
const SPAN = 27 * H;

const backupFailedAnnotations = (schedule: string) => ({
    summary: `Velero backup of schedule ${schedule} failed`,
    description: `A backup of schedule ${schedule} failed in the last hour: its data is not in the vault. List the schedule's backups with \`${CLI} backup get --selector velero.io/schedule-name=${schedule}\`, then read \`${CLI} backup describe <name> --details\` and \`${CLI} backup logs <name>\`.`,
});
const backupPartiallyFailedAnnotations = (schedule: string) => ({
    summary: `Velero backup of schedule ${schedule} partially failed`,
    description: `Some items or volumes of a backup of schedule ${schedule} were not saved, and a restore by schedule skips partially failed backups. List the schedule's backups with \`${CLI} backup get --selector velero.io/schedule-name=${schedule}\`; \`${CLI} backup describe <name> --details\` lists what failed.`,
});
const backupWarningsAnnotations = (schedule: string) => ({
    summary: `Velero backup of schedule ${schedule} ended with warnings`,
    description: `A backup of schedule ${schedule} completed with warnings in the last hour. A file-system backup volume whose pod was not running is such a warning, and its data is not in the vault (a hostPath volume raises no warning of its own: the backup check names it). List the schedule's backups with \`${CLI} backup get --selector velero.io/schedule-name=${schedule}\`, then read the warnings with \`${CLI} backup describe <name> --details\` and \`${CLI} backup logs <name> | grep level=warning\`.`,
});
const noRecentBackupAnnotations = (schedule: string, age: string) => ({
    summary: `No successful backup of schedule ${schedule} for 25 hours`,
    description: `The newest completed backup of schedule ${schedule} is ${age} old. Check the schedule with \`${CLI} schedule describe ${schedule}\` and its newest backups with \`${CLI} backup get --selector velero.io/schedule-name=${schedule}\`.`,
});
const restoreCommands = `Find it with \`${CLI} restore get\`, then read \`${CLI} restore describe <name> --details\` and \`${CLI} restore logs <name>\`.`;
const ofSchedule = (schedule: string) => (schedule === "" ? "" : ` of schedule ${schedule}`);

/** One promtool unit-test file per behaviour; all of them run in one promtool call. */
const CASES = {
    lostClusterSchedule: [
        {
            interval: "1m",
            input_series: [
                // A recovered cluster: the lost cluster's backups were synced with their schedule label, and Velero
                // computes their schedule's last success (updateTotalBackupMetric): stale for ever.
                {
                    series: series("velero_backup_last_successful_timestamp", { schedule: LOST }),
                    values: hold(0, SPAN),
                },
                // Its own daily schedule has not succeeded for 25 hours either.
                {
                    series: series("velero_backup_last_successful_timestamp", { schedule: DAILY }),
                    values: hold(0, SPAN),
                },
            ],
            alert_rule_test: [
                {
                    eval_time: "25h30m",
                    alertname: "VeleroNoRecentBackup",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: DAILY }),
                            exp_annotations: noRecentBackupAnnotations(DAILY, "1d 1h 30m 0s"),
                        },
                    ],
                },
            ],
        },
    ],
    noRecentBackup: [
        {
            interval: "1m",
            input_series: [
                // The daily schedule's last success was at the start, never again.
                {
                    series: series("velero_backup_last_successful_timestamp", { schedule: DAILY }),
                    values: hold(0, SPAN),
                },
                // The hourly one succeeds every hour: its timestamp is at most an hour old.
                {
                    series: series("velero_backup_last_successful_timestamp", { schedule: HOURLY }),
                    values: Array.from({ length: SPAN / H }, (_, hour) => hold(hour * 3600, H)).join(" "),
                },
            ],
            alert_rule_test: [
                { eval_time: "24h", alertname: "VeleroNoRecentBackup", exp_alerts: [] },
                // Stale since just after 25h, the alert waits 15 minutes (`for`) before it pages.
                { eval_time: "25h10m", alertname: "VeleroNoRecentBackup", exp_alerts: [] },
                {
                    eval_time: "25h30m",
                    alertname: "VeleroNoRecentBackup",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: DAILY }),
                            exp_annotations: noRecentBackupAnnotations(DAILY, "1d 1h 30m 0s"),
                        },
                    ],
                },
            ],
        },
    ],
    scheduleNeverSucceeded: [
        {
            interval: "1m",
            input_series: [
                // The weekly schedule exists from the start (InitSchedule), its first backup at 2h fails.
                {
                    series: series("velero_backup_attempt_total", { schedule: WEEKLY }),
                    values: `${hold(0, 2 * H)} ${hold(1, SPAN - 2 * H)}`,
                },
                // The daily one's first backup completes at 3h: only then does its timestamp exist.
                {
                    series: series("velero_backup_attempt_total", { schedule: DAILY }),
                    values: `${hold(0, 3 * H)} ${hold(1, SPAN - 3 * H)}`,
                },
                {
                    series: series("velero_backup_last_successful_timestamp", { schedule: DAILY }),
                    values: `${missing(3 * H)} ${hold(3 * 3600, SPAN - 3 * H)}`,
                },
            ],
            alert_rule_test: [
                { eval_time: "24h50m", alertname: "VeleroScheduleNeverSucceeded", exp_alerts: [] },
                {
                    eval_time: "25h10m",
                    alertname: "VeleroScheduleNeverSucceeded",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: WEEKLY }),
                            exp_annotations: {
                                summary: `Schedule ${WEEKLY} has had no successful backup since it was created 25 hours ago`,
                                description: `No backup of schedule ${WEEKLY} has ever completed. Check \`${CLI} schedule describe ${WEEKLY}\` (paused, or a cron that never ticks?) and the logs of its backups: \`${CLI} backup get --selector velero.io/schedule-name=${WEEKLY}\`, then \`${CLI} backup logs <name>\`.`,
                            },
                        },
                    ],
                },
            ],
        },
    ],
    backupFailed: [
        {
            interval: "1m",
            input_series: [
                {
                    series: series("velero_backup_failure_total", { schedule: DAILY }),
                    values: `${hold(0, 2 * H)} ${hold(1, 2 * H)}`,
                },
                { series: series("velero_backup_failure_total", { schedule: HOURLY }), values: hold(0, 4 * H) },
            ],
            alert_rule_test: [
                { eval_time: "1h", alertname: "VeleroBackupFailed", exp_alerts: [] },
                {
                    eval_time: "2h10m",
                    alertname: "VeleroBackupFailed",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: DAILY }),
                            exp_annotations: backupFailedAnnotations(DAILY),
                        },
                    ],
                },
                // An hour later the failure is no longer news.
                { eval_time: "3h30m", alertname: "VeleroBackupFailed", exp_alerts: [] },
            ],
        },
    ],
    backupPartiallyFailed: [
        {
            interval: "1m",
            input_series: [
                {
                    series: series("velero_backup_partial_failure_total", { schedule: DAILY }),
                    values: `${hold(0, 2 * H)} ${hold(1, 2 * H)}`,
                },
                { series: series("velero_backup_partial_failure_total", { schedule: HOURLY }), values: hold(0, 4 * H) },
            ],
            alert_rule_test: [
                { eval_time: "1h", alertname: "VeleroBackupPartiallyFailed", exp_alerts: [] },
                {
                    eval_time: "2h10m",
                    alertname: "VeleroBackupPartiallyFailed",
                    exp_alerts: [
                        {
                            exp_labels: firing("warning", { schedule: DAILY }),
                            exp_annotations: backupPartiallyFailedAnnotations(DAILY),
                        },
                    ],
                },
            ],
        },
    ],
    backupWarnings: [
        {
            interval: "1m",
            input_series: [
                // InitSchedule starts both counters at 0; the daily backup at 2h skips a hostPath volume (a warning).
                {
                    series: series("velero_backup_warning_total", { schedule: DAILY }),
                    values: `${hold(0, 2 * H)} ${hold(1, 2 * H)}`,
                },
                { series: series("velero_backup_warning_total", { schedule: HOURLY }), values: hold(0, 4 * H) },
                // The lost cluster's backups synced into a recovered cluster never count: not this cluster's schedule.
                {
                    series: series("velero_backup_warning_total", { schedule: LOST }),
                    values: `${hold(0, 2 * H)} ${hold(1, 2 * H)}`,
                },
            ],
            alert_rule_test: [
                { eval_time: "1h", alertname: "VeleroBackupWarnings", exp_alerts: [] },
                {
                    eval_time: "2h10m",
                    alertname: "VeleroBackupWarnings",
                    exp_alerts: [
                        {
                            exp_labels: firing("warning", { schedule: DAILY }),
                            exp_annotations: backupWarningsAnnotations(DAILY),
                        },
                    ],
                },
                // An hour after the warned backup, with none since, it resolves.
                { eval_time: "3h30m", alertname: "VeleroBackupWarnings", exp_alerts: [] },
            ],
        },
    ],
    locationUnavailable: [
        {
            interval: "1m",
            input_series: [
                // The write location becomes unavailable at minute 5; the read-only source stays available.
                {
                    series: series("velero_backup_location_status_gauge", { backup_location_name: "default" }),
                    values: `${hold(1, 5)} ${hold(0, 30)}`,
                },
                {
                    series: series("velero_backup_location_status_gauge", { backup_location_name: "source" }),
                    values: hold(1, 35),
                },
            ],
            alert_rule_test: [
                { eval_time: "15m", alertname: "VeleroBackupLocationUnavailable", exp_alerts: [] },
                {
                    eval_time: "20m",
                    alertname: "VeleroBackupLocationUnavailable",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { backup_location_name: "default" }),
                            exp_annotations: {
                                summary: "Velero backup location default is unavailable",
                                description: `Velero cannot reach the vault through location default: no backup is written to it and no backup is synced from it. The status.message of \`${CLI} backup-location get default -o yaml\` says why.`,
                            },
                        },
                    ],
                },
            ],
        },
    ],
    adHocBackup: [
        {
            // Ad-hoc backups (schedule="", created at server start by InitSchedule("")) fail, partially fail and
            // are old; a scheduled one fails alongside, so each check shows the rule live and the filter at work.
            interval: "1m",
            input_series: [
                {
                    series: series("velero_backup_failure_total", { schedule: "" }),
                    values: `${hold(0, H)} ${hold(1, SPAN - H)}`,
                },
                {
                    series: series("velero_backup_failure_total", { schedule: DAILY }),
                    values: `${hold(0, H)} ${hold(1, SPAN - H)}`,
                },
                {
                    series: series("velero_backup_partial_failure_total", { schedule: "" }),
                    values: `${hold(0, 2 * H)} ${hold(1, SPAN - 2 * H)}`,
                },
                {
                    series: series("velero_backup_partial_failure_total", { schedule: DAILY }),
                    values: `${hold(0, 2 * H)} ${hold(1, SPAN - 2 * H)}`,
                },
                { series: series("velero_backup_last_successful_timestamp", { schedule: "" }), values: hold(0, SPAN) },
                {
                    series: series("velero_backup_last_successful_timestamp", { schedule: DAILY }),
                    values: hold(0, SPAN),
                },
            ],
            alert_rule_test: [
                {
                    eval_time: "1h10m",
                    alertname: "VeleroBackupFailed",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: DAILY }),
                            exp_annotations: backupFailedAnnotations(DAILY),
                        },
                    ],
                },
                {
                    eval_time: "2h10m",
                    alertname: "VeleroBackupPartiallyFailed",
                    exp_alerts: [
                        {
                            exp_labels: firing("warning", { schedule: DAILY }),
                            exp_annotations: backupPartiallyFailedAnnotations(DAILY),
                        },
                    ],
                },
                {
                    eval_time: "26h",
                    alertname: "VeleroNoRecentBackup",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: DAILY }),
                            exp_annotations: noRecentBackupAnnotations(DAILY, "1d 2h 0m 0s"),
                        },
                    ],
                },
            ],
        },
        {
            // Ad-hoc attempt counters exist from the server's start; an ad-hoc backup that never completes is no
            // schedule that never succeeded.
            interval: "1m",
            input_series: [
                {
                    series: series("velero_backup_attempt_total", { schedule: "" }),
                    values: `${hold(0, H)} ${hold(1, SPAN - H)}`,
                },
            ],
            alert_rule_test: [{ eval_time: "26h", alertname: "VeleroScheduleNeverSucceeded", exp_alerts: [] }],
        },
    ],
    restoreFailed: [
        {
            interval: "1m",
            input_series: [
                // A restore of a named backup (no schedule label; the counter exists from the server's start) fails at 30m.
                {
                    series: series("velero_restore_failed_total", { schedule: "" }),
                    values: `${hold(0, 30)} ${hold(1, 3 * H - 30)}`,
                },
                // A drill's restore by scheduleName, in a cluster without that Schedule: the counter appears at 1 (40m).
                {
                    series: series("velero_restore_failed_total", { schedule: DAILY }),
                    values: `${missing(40)} ${hold(1, 3 * H - 40)}`,
                },
            ],
            alert_rule_test: [
                { eval_time: "20m", alertname: "VeleroRestoreFailed", exp_alerts: [] },
                {
                    eval_time: "45m",
                    alertname: "VeleroRestoreFailed",
                    exp_alerts: ["", DAILY].map((schedule) => ({
                        exp_labels: firing("critical", { schedule }),
                        exp_annotations: {
                            summary: `A Velero restore${ofSchedule(schedule)} failed`,
                            description: `A restore${ofSchedule(schedule)} failed in the last hour: its data may not be back. ${restoreCommands}`,
                        },
                    })),
                },
                // Both resolve once the failure is older than an hour.
                { eval_time: "2h", alertname: "VeleroRestoreFailed", exp_alerts: [] },
            ],
        },
    ],
    restorePartiallyFailed: [
        {
            interval: "1m",
            input_series: [
                // A recover cluster has the schedule (InitSchedule): its counter starts at 0 and rises at 30m.
                {
                    series: series("velero_restore_partial_failure_total", { schedule: DAILY }),
                    values: `${hold(0, 30)} ${hold(1, H)}`,
                },
                { series: series("velero_restore_partial_failure_total", { schedule: "" }), values: hold(0, 90) },
            ],
            alert_rule_test: [
                { eval_time: "20m", alertname: "VeleroRestorePartiallyFailed", exp_alerts: [] },
                {
                    eval_time: "45m",
                    alertname: "VeleroRestorePartiallyFailed",
                    exp_alerts: [
                        {
                            exp_labels: firing("warning", { schedule: DAILY }),
                            exp_annotations: {
                                summary: `A Velero restore of schedule ${DAILY} partially failed`,
                                description: `A restore of schedule ${DAILY} finished in the last hour with errors: some items or volumes were not restored. ${restoreCommands}`,
                            },
                        },
                    ],
                },
            ],
        },
    ],
    restoreValidationFailed: [
        {
            interval: "1m",
            input_series: [
                // A drill's restore created before its backup was synced: the counter appears at 1 at minute 10.
                {
                    series: series("velero_restore_validation_failed_total", { schedule: DAILY }),
                    values: `${missing(10)} ${hold(1, 50)}`,
                },
                { series: series("velero_restore_validation_failed_total", { schedule: "" }), values: hold(0, H) },
            ],
            alert_rule_test: [
                { eval_time: "5m", alertname: "VeleroRestoreValidationFailed", exp_alerts: [] },
                {
                    eval_time: "11m",
                    alertname: "VeleroRestoreValidationFailed",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: DAILY }),
                            exp_annotations: {
                                summary: `A Velero restore of schedule ${DAILY} failed validation and will never run`,
                                description: `A restore of schedule ${DAILY} was rejected in the last hour. \`${CLI} restore describe <name>\` lists the validation errors (find it with \`${CLI} restore get\`); check that \`${CLI} backup get\` lists the backup, then create a new Restore.`,
                            },
                        },
                    ],
                },
            ],
        },
    ],
} satisfies Record<string, TestGroup[]>;

/** A prometheusOperator input for veleroValues, without monitoring labels. */
const UNLABELLED: VeleroValuesInput = {
    mode: "protect",
    releaseName: "velero",
    namespace: "velero",
    volumeDataMode: "dataMover",
    awsPluginVersion: "v1.14.2",
    bucketName: "acme-gitops-dr-vault",
    region: "eu-west-1",
    kmsKeyArn: "arn:aws:kms:eu-west-1:111122223333:key/prod-vault-key",
    writePrefix: "prod-eu-1",
    // The cluster's own Schedules (the names the cases use); the backup alerts concern only them.
    tiers: [DAILY, HOURLY, WEEKLY].map((name, i) => ({
        key: (["daily", "weekly", "monthly"] as const)[i],
        name,
        cron: "0 2 * * *",
        ttl: "720h",
        ttlHours: 720,
    })),
    excludedNamespaces: [],
    argoCdNamespace: "argocd",
    credentials: { mode: "podIdentity" },
    prometheusOperator: true,
};
/** The same with the label a kube-prometheus-stack Prometheus selects on. */
const MONITORED: VeleroValuesInput = { ...UNLABELLED, monitoringLabels: { release: "kube-prometheus-stack" } };

type Metrics = Record<"serviceMonitor" | "nodeAgentPodMonitor" | "prometheusRule", Record<string, unknown>>;

/** The rule list veleroValues hands the chart: what the cluster's PrometheusRule carries. */
function deployedRules(): AlertRule[] {
    const metrics = (veleroValues(MONITORED) as { metrics: Metrics }).metrics;
    const spec = metrics.prometheusRule.spec;
    assert.ok(Array.isArray(spec) && spec.length > 0, "veleroValues deploys no rules");
    return spec as AlertRule[];
}

describe("Velero alerts under promtool", function () {
    let binary = "";
    let dir = "";
    let rulesFile = "";
    /** Each case's section of promtool's output, by case name. */
    const sections = new Map<string, string>();

    before(function () {
        const found = onPath("promtool");
        if (found === undefined) {
            if (process.env.CI === "true") {
                throw new Error(`promtool is not on PATH; CI must install it first (.ci/run): ${INSTALL_PROMTOOL}`);
            }
            console.log(`      promtool is not on PATH: these tests are pending. Install it with: ${INSTALL_PROMTOOL}`);
            this.skip();
        }
        binary = found;
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-alerts-"));
        rulesFile = path.join(dir, "velero-rules.yaml");
        fs.writeFileSync(rulesFile, stringify(prometheusRuleSpec(deployedRules()), { lineWidth: 0 }));

        const rules = new Set(deployedRules().map((r) => r.alert));
        const files: string[] = [];
        for (const [name, groups] of Object.entries(CASES)) {
            for (const check of groups.flatMap((g) => g.alert_rule_test)) {
                // An expectation of no alert for a name no rule has would pass for nothing.
                assert.ok(rules.has(check.alertname), `case ${name} checks ${check.alertname}, which no rule defines`);
            }
            const file = path.join(dir, `${name}.test.yaml`);
            fs.writeFileSync(
                file,
                stringify({ rule_files: [rulesFile], evaluation_interval: "1m", tests: groups }, { lineWidth: 0 }),
            );
            files.push(file);
        }
        // One promtool call for every case. Its stdout and stderr go to one file so that each failure stays in
        // the section of the file it belongs to.
        const outFile = path.join(dir, "promtool-test.out");
        const out = fs.openSync(outFile, "w");
        let status: number | null;
        try {
            const run = spawnSync(binary, ["test", "rules", ...files], {
                stdio: ["ignore", out, out],
                timeout: 120_000,
            });
            if (run.error !== undefined) {
                throw run.error;
            }
            status = run.status;
        } finally {
            fs.closeSync(out);
        }
        const output = fs.readFileSync(outFile, "utf8");
        for (const part of output.split(/^Unit Testing:\s+/m).slice(1)) {
            const file = part.slice(0, part.indexOf("\n")).trim();
            sections.set(path.basename(file, ".test.yaml"), part);
        }
        assert.equal(
            sections.size,
            files.length,
            `promtool reported on ${sections.size} of ${files.length} files:\n${output}`,
        );
        // A failing exit that no case's section explains (a crash, an unreadable rule file) fails every case.
        assert.ok(
            status === 0 || [...sections.values()].some((s) => s.includes("FAILED")),
            `promtool exited ${String(status)}:\n${output}`,
        );
    });

    after(() => {
        if (dir !== "") {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    /** Asserts that promtool passed every expectation of one case. */
    function passed(name: keyof typeof CASES): void {
        const section = sections.get(name);
        assert.ok(section !== undefined, `promtool did not run case ${name}`);
        assert.ok(
            /^\s+SUCCESS\s*$/m.test(section) && !section.includes("FAILED"),
            `promtool case ${name}:\n${section}`,
        );
    }

    it("promtool check rules finds every rule and no duplicate", () => {
        const run = promtool(binary, ["check", "rules", "--lint=all", "--lint-fatal", rulesFile]);
        const output = run.stdout + run.stderr;
        assert.equal(run.status, 0, output);
        assert.match(run.stdout, new RegExp(`SUCCESS: ${deployedRules().length} rules found`));
        assert.doesNotMatch(output, /duplicate/i);
    });

    it("promtool check rules would flag two rules sharing a name and labels (the old VeleroNoRecentBackup pair)", () => {
        const twins = deployedRules().map((r) =>
            r.alert === "VeleroScheduleNeverSucceeded" ? { ...r, alert: "VeleroNoRecentBackup" } : r,
        );
        const file = path.join(dir, "twins.yaml");
        fs.writeFileSync(file, stringify(prometheusRuleSpec(twins), { lineWidth: 0 }));
        const run = promtool(binary, ["check", "rules", "--lint=all", "--lint-fatal", file]);
        assert.notEqual(run.status, 0);
        assert.match(run.stdout + run.stderr, /1 duplicate rule\(s\) found/);
    });

    it("a wrong expectation fails the promtool run (the harness can fail)", () => {
        const wrong: TestGroup[] = CASES.backupFailed.map((g) => ({
            ...g,
            // The failure happens at 2h: at 1h there is nothing to fire.
            alert_rule_test: [
                {
                    eval_time: "1h",
                    alertname: "VeleroBackupFailed",
                    exp_alerts: [
                        {
                            exp_labels: firing("critical", { schedule: DAILY }),
                            exp_annotations: backupFailedAnnotations(DAILY),
                        },
                    ],
                },
            ],
        }));
        const file = path.join(dir, "wrong.test.yaml");
        fs.writeFileSync(
            file,
            stringify({ rule_files: [rulesFile], evaluation_interval: "1m", tests: wrong }, { lineWidth: 0 }),
        );
        const run = promtool(binary, ["test", "rules", file]);
        assert.notEqual(run.status, 0);
        assert.match(run.stdout + run.stderr, /FAILED/);
    });

    it("no successful backup for 25 hours fires; 24 hours does not", () => passed("noRecentBackup"));
    it("in a recovered cluster, the lost cluster's stale schedule fires nothing; the cluster's own does", () =>
        passed("lostClusterSchedule"));
    it("a schedule that never succeeded fires after 25 hours, not before", () => passed("scheduleNeverSucceeded"));
    it("a failed backup of a schedule fires, and resolves an hour later", () => passed("backupFailed"));
    it("a partially failed backup of a schedule fires", () => passed("backupPartiallyFailed"));
    it("a backup of a schedule that ended with warnings fires; the lost cluster's schedule does not", () =>
        passed("backupWarnings"));
    it("a backup location unavailable for 15 minutes fires; 10 minutes does not", () => passed("locationUnavailable"));
    it('ad-hoc backups (schedule="") fire none of the backup alerts', () => passed("adHocBackup"));
    it("a failed restore fires, by schedule or of a named backup, including a counter that first appears at 1", () =>
        passed("restoreFailed"));
    it("a partially failed restore fires", () => passed("restorePartiallyFailed"));
    it("a restore that failed validation fires", () => passed("restoreValidationFailed"));
});

describe("Velero alert rule group", () => {
    it("is the chart's PrometheusRule document: the values' rule list in one group named after the chart", () => {
        const rules = deployedRules();
        assert.deepEqual(rules, alertRules([DAILY, HOURLY, WEEKLY]));
        const group = alertRuleGroup(rules);
        assert.equal(group.name, "velero");
        assert.equal(ALERT_RULE_GROUP_NAME, "velero");
        assert.deepEqual(group.rules, rules);
        assert.deepEqual(prometheusRuleSpec(rules), { groups: [group] });
    });

    it("a real run alerts on every Schedule it creates: the tiers and the credentials Schedule", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { prometheusOperator: true } });
        const scheduleNames = run.ofType("kubernetes:velero.io/v1:Schedule").map((s) => {
            const metadata = s.inputs.metadata as { name: string };
            return metadata.name;
        });
        assert.ok(
            scheduleNames.some((n) => n.endsWith("-credentials")),
            scheduleNames.join(", "),
        );
        const velero = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "velero");
        const rules = (velero?.inputs.values as { metrics: Metrics }).metrics.prometheusRule.spec as AlertRule[];
        // The tiers first, then the credentials Schedule: the alert matcher's order.
        const ordered = [
            ...scheduleNames.filter((n) => !n.endsWith("-credentials")),
            ...scheduleNames.filter((n) => n.endsWith("-credentials")),
        ];
        assert.deepEqual(rules, alertRules(ordered));
    });

    it("every alert has a severity, a summary and a description with a velero command", () => {
        for (const rule of alertRules([DAILY])) {
            assert.ok(["critical", "warning"].includes(rule.labels.severity), rule.alert);
            assert.ok(rule.annotations.summary.length > 0, rule.alert);
            assert.match(
                rule.annotations.description,
                /`velero -n \{\{ \$labels\.namespace \}\} [a-z-]+ [a-z]+/,
                rule.alert,
            );
        }
        const all = alertRules([DAILY]);
        assert.equal(new Set(all.map((r) => r.alert)).size, all.length, "alert names are unique");
    });

    it("monitoring labels reach the ServiceMonitor, the node-agent PodMonitor and the PrometheusRule", () => {
        const metrics = (veleroValues(MONITORED) as { metrics: Metrics }).metrics;
        for (const key of ["serviceMonitor", "nodeAgentPodMonitor", "prometheusRule"] as const) {
            assert.deepEqual(metrics[key].additionalLabels, { release: "kube-prometheus-stack" }, key);
        }
        const plain = (veleroValues(UNLABELLED) as { metrics: Metrics }).metrics;
        for (const key of ["serviceMonitor", "nodeAgentPodMonitor", "prometheusRule"] as const) {
            assert.deepEqual(plain[key].additionalLabels, {}, key);
        }
    });
});
