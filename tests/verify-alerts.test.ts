/**
 * The backup verification's alerts (components/verify/alerts.ts) proven with promtool on kube-state-metrics'
 * CronJob series: a failed run fires, a stale verification fires, a healthy or running one is silent. The rule file
 * promtool reads is generated from the rules the program deploys.
 */
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { stringify } from "yaml";

import { promtoolTestRules } from "./promtool";

import {
    VERIFY_CRONJOB,
    VERIFY_NOT_VERIFIABLE,
    VERIFY_RECORD,
    verificationAlertGroup,
    verificationAlertRules,
} from "../components/verify";

const WEEK = 7 * 86400;
const RULES = verificationAlertRules({
    namespace: "velero",
    cronJob: VERIFY_CRONJOB,
    configMap: VERIFY_RECORD,
    notVerifiableConfigMap: VERIFY_NOT_VERIFIABLE,
    periodSeconds: WEEK,
});
/** Labels kube-state-metrics' scrape puts on every CronJob series (as kube-prometheus-stack scrapes it). */
const KSM = { job: "kube-state-metrics", instance: "10.42.0.9:8080", namespace: "velero", cronjob: VERIFY_CRONJOB };
const series = (metric: string) =>
    `${metric}{${Object.entries(KSM)
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`;
const H = 3600;
const D = 86400;

/**
 * One sample a minute for `hours` hours, each `at(t)` for t in seconds (undefined: no sample), in promtool's
 * expanding notation: `v+0xn` is n+1 samples of v, `_xn` n missing ones.
 */
function minutely(hours: number, at: (t: number) => number | undefined): string {
    const runs: { v: number | undefined; n: number }[] = [];
    for (let i = 0; i <= hours * 60; i++) {
        const v = at(i * 60);
        const last = runs[runs.length - 1];
        if (last !== undefined && last.v === v) {
            last.n++;
        } else {
            runs.push({ v, n: 1 });
        }
    }
    return runs
        .map((r) => (r.v === undefined ? `_x${r.n}` : r.n === 1 ? String(r.v) : `${r.v}+0x${r.n - 1}`))
        .join(" ");
}

const failedDescription = `Restoring the newest daily backup into scratch namespaces failed: a restore from it may fail too. The record names the failing namespace and claim: \`kubectl get configmap ${VERIFY_RECORD} -n velero -o jsonpath='{.data.last-run\\.json}'\`; the Job's log: \`kubectl get jobs -n velero --sort-by=.metadata.creationTimestamp\`, then \`kubectl logs -n velero job/<name>\`.`;
const firingLabels = (severity: string) => ({ ...KSM, severity });
const failedAlert = {
    exp_labels: firingLabels("critical"),
    exp_annotations: { summary: "The last verification of the backups failed", description: failedDescription },
};
const staleAlert = {
    exp_labels: firingLabels("warning"),
    exp_annotations: {
        summary: "No backup verification has passed for 8 days",
        description: `The backups have not been proven restorable for longer than the verification's period plus a day. Check the CronJob with \`kubectl get cronjob ${VERIFY_CRONJOB} -n velero\` and the last run's record: \`kubectl get configmap ${VERIFY_RECORD} -n velero -o jsonpath='{.data.last-run\\.json}'\`.`,
    },
};

/**
 * Ten days of a weekly CronJob created at t=0 (ksm reports times in seconds since the epoch, here the test's own
 * clock): `lastSchedule(t)`, `lastSuccess(t)` and `active(t)` as the CronJob's status would be.
 */
function scenario(
    lastSchedule: (t: number) => number | undefined,
    lastSuccess: (t: number) => number | undefined,
    active: (t: number) => number = () => 0,
) {
    const hours = 10 * 24;
    return [
        { series: series("kube_cronjob_created"), values: minutely(hours, () => 0) },
        { series: series("kube_cronjob_status_last_schedule_time"), values: minutely(hours, lastSchedule) },
        { series: series("kube_cronjob_status_last_successful_time"), values: minutely(hours, lastSuccess) },
        { series: series("kube_cronjob_status_active"), values: minutely(hours, active) },
    ];
}

const CASES: Record<string, object> = {
    healthy: {
        // Runs on day 0 and day 7 at 04:00, each done an hour later.
        input_series: scenario(
            (t) => (t >= 4 * H ? (t >= 7 * D + 4 * H ? 7 * D + 4 * H : 4 * H) : undefined),
            (t) => (t >= 5 * H ? (t >= 7 * D + 5 * H ? 7 * D + 5 * H : 5 * H) : undefined),
            (t) => ((t >= 4 * H && t < 5 * H) || (t >= 7 * D + 4 * H && t < 7 * D + 5 * H) ? 1 : 0),
        ),
        alert_rule_test: [
            { eval_time: "4h30m", alertname: "GitopsDrBackupVerificationFailed", exp_alerts: [] },
            { eval_time: "9d", alertname: "GitopsDrBackupVerificationFailed", exp_alerts: [] },
            { eval_time: "9d", alertname: "GitopsDrBackupVerificationStale", exp_alerts: [] },
        ],
    },
    failedRun: {
        // Day 0 passed; the run of day 7 failed (its Job failed: no new success, nothing active).
        input_series: scenario(
            (t) => (t >= 7 * D + 4 * H ? 7 * D + 4 * H : t >= 4 * H ? 4 * H : undefined),
            (t) => (t >= 5 * H ? 5 * H : undefined),
            (t) => (t >= 7 * D + 4 * H && t < 7 * D + 5 * H ? 1 : 0),
        ),
        alert_rule_test: [
            // Running: silent.
            { eval_time: "7d4h30m", alertname: "GitopsDrBackupVerificationFailed", exp_alerts: [] },
            {
                eval_time: "7d6h",
                alertname: "GitopsDrBackupVerificationFailed",
                exp_alerts: [
                    {
                        exp_labels: firingLabels("critical"),
                        exp_annotations: {
                            summary: "The last verification of the backups failed",
                            description: failedDescription,
                        },
                    },
                ],
            },
            // The last success is 7d1h old at 7d6h: not stale yet; at 8d6h (period + a day passed) it is.
            { eval_time: "7d6h", alertname: "GitopsDrBackupVerificationStale", exp_alerts: [] },
            {
                eval_time: "8d6h",
                alertname: "GitopsDrBackupVerificationStale",
                exp_alerts: [
                    {
                        exp_labels: firingLabels("warning"),
                        exp_annotations: {
                            summary: "No backup verification has passed for 8 days",
                            description: `The backups have not been proven restorable for longer than the verification's period plus a day. Check the CronJob with \`kubectl get cronjob ${VERIFY_CRONJOB} -n velero\` and the last run's record: \`kubectl get configmap ${VERIFY_RECORD} -n velero -o jsonpath='{.data.last-run\\.json}'\`.`,
                        },
                    },
                ],
            },
        ],
    },
    neverSucceeded: {
        // The first run (day 0) failed and the CronJob then stopped (suspended): no success series at all.
        input_series: scenario(
            (t) => (t >= 4 * H ? 4 * H : undefined),
            () => undefined,
        ),
        alert_rule_test: [
            { eval_time: "1h", alertname: "GitopsDrBackupVerificationFailed", exp_alerts: [] },
            {
                eval_time: "5h",
                alertname: "GitopsDrBackupVerificationFailed",
                exp_alerts: [failedAlert],
            },
            { eval_time: "7d23h", alertname: "GitopsDrBackupVerificationStale", exp_alerts: [] },
            {
                eval_time: "8d1h",
                alertname: "GitopsDrBackupVerificationStale",
                exp_alerts: [staleAlert],
            },
        ],
    },
};

/** kube-state-metrics' series of the not-verifiable ConfigMap: its creation time while it exists. */
const CONFIGMAP = {
    job: "kube-state-metrics",
    instance: "10.42.0.9:8080",
    namespace: "velero",
    configmap: VERIFY_NOT_VERIFIABLE,
};
const configMapCreated = `kube_configmap_created{${Object.entries(CONFIGMAP)
    .map(([k, v]) => `${k}="${v}"`)
    .join(",")}}`;
const notVerifiableAlert = {
    exp_labels: { ...CONFIGMAP, severity: "warning" },
    exp_annotations: {
        summary: "Some namespaces have not been verifiable for 28 days",
        description: `The weekly verification passes without them: their data comes back only into pods Velero restores (file-system backup), from native snapshots, or as the live volume, none of which a restore into scratch namespaces can take. Only a drill proves them. Which and why: \`kubectl get configmap ${VERIFY_NOT_VERIFIABLE} -n velero -o jsonpath='{.data.namespaces\\.json}'\`. Run a drill (README "Run the yearly drill") and silence this alert until the next one, or move those volumes to the CSI data mover (README "Homelab (k3s) storage").`,
    },
};
/** One sample an hour for `days` days, each `at(t)` (undefined: the ConfigMap does not exist). */
function hourly(days: number, at: (t: number) => number | undefined): string {
    const runs: { v: number | undefined; n: number }[] = [];
    for (let i = 0; i <= days * 24; i++) {
        const v = at(i * H);
        const last = runs[runs.length - 1];
        if (last !== undefined && last.v === v) {
            last.n++;
        } else {
            runs.push({ v, n: 1 });
        }
    }
    return runs
        .map((r) => (r.v === undefined ? `_x${r.n}` : r.n === 1 ? String(r.v) : `${r.v}+0x${r.n - 1}`))
        .join(" ");
}

const NOT_VERIFIABLE_CASES: Record<string, object> = {
    // The run of day 0 found a namespace it cannot prove; every later run still does.
    unprovenForWeeks: {
        interval: "1h",
        input_series: [{ series: configMapCreated, values: hourly(35, (t) => (t >= 4 * H ? 4 * H : undefined)) }],
        alert_rule_test: [
            { eval_time: "27d", alertname: "GitopsDrBackupNamespacesNotVerifiable", exp_alerts: [] },
            {
                eval_time: "28d5h",
                alertname: "GitopsDrBackupNamespacesNotVerifiable",
                exp_alerts: [notVerifiableAlert],
            },
        ],
    },
    // The run of day 21 found none any more (the volumes moved to the data mover): the ConfigMap went.
    provenAgain: {
        interval: "1h",
        input_series: [
            {
                series: configMapCreated,
                values: hourly(35, (t) => (t >= 4 * H && t < 21 * D + 5 * H ? 4 * H : undefined)),
            },
        ],
        alert_rule_test: [{ eval_time: "30d", alertname: "GitopsDrBackupNamespacesNotVerifiable", exp_alerts: [] }],
    },
    // Every namespace provable: there is no such ConfigMap.
    none: {
        interval: "1h",
        input_series: [
            {
                series: `kube_configmap_created{job="kube-state-metrics",namespace="velero",configmap="${VERIFY_RECORD}"}`,
                values: hourly(35, () => 0),
            },
        ],
        alert_rule_test: [{ eval_time: "30d", alertname: "GitopsDrBackupNamespacesNotVerifiable", exp_alerts: [] }],
    },
};

describe("backup verification alerts under promtool", function () {
    this.timeout(60000);
    let dir: string;
    let rulesFile: string;
    before(function () {
        if (spawnSync("promtool", ["--version"]).error !== undefined) {
            if (process.env.CI !== undefined) {
                throw new Error("promtool is not on PATH");
            }
            this.skip();
        }
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-verify-alerts-"));
        rulesFile = path.join(dir, "rules.yaml");
        fs.writeFileSync(rulesFile, stringify({ groups: [verificationAlertGroup(RULES)] }));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("promtool check rules accepts them (lint included)", () => {
        const run = spawnSync("promtool", ["check", "rules", "--lint=all", "--lint-fatal", rulesFile], {
            encoding: "utf8",
        });
        assert.equal(run.status, 0, run.stdout + run.stderr);
        assert.match(run.stdout, /SUCCESS: 3 rules found/);
    });

    for (const [name, testCase] of Object.entries({ ...CASES, ...NOT_VERIFIABLE_CASES })) {
        it(`${name}: ${["healthy", "provenAgain", "none"].includes(name) ? "silent" : "fires as expected"}`, () => {
            const run = promtoolTestRules(dir, name, {
                rule_files: [rulesFile],
                // Weeks-long cases are sampled and evaluated hourly: their rule has no `for`.
                evaluation_interval: (testCase as { interval?: string }).interval ?? "1m",
                tests: [{ interval: "1m", ...testCase }],
            });
            assert.equal(run.status, 0, run.stdout + run.stderr);
        });
    }

    it("a wrong expectation fails promtool (the harness can fail)", () => {
        const healthy = CASES.healthy as { input_series: object[] };
        assert.notEqual(
            promtoolTestRules(dir, "wrong", {
                rule_files: [rulesFile],
                tests: [
                    {
                        interval: "1m",
                        input_series: healthy.input_series,
                        alert_rule_test: [
                            {
                                eval_time: "9d",
                                alertname: "GitopsDrBackupVerificationStale",
                                exp_alerts: [staleAlert],
                            },
                        ],
                    },
                ],
            }).status,
            0,
        );
    });
});
