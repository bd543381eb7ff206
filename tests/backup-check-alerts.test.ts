/**
 * The backup check's alerts (components/verify/alerts.ts `backupCheckAlertRules`) proven with promtool on
 * kube-state-metrics' series: a marker ConfigMap fires an alert naming the claim (a claim name with dots too), any
 * other ConfigMap of Velero's namespace is silent, and a failed run fires once it is not running. The rule file
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
    BACKUP_CHECK_CRONJOB,
    BACKUP_CHECK_RECORD,
    NO_DATA_MARKER_PREFIX,
    backupCheckAlertRules,
} from "../components/verify";

const RULES = backupCheckAlertRules({
    namespace: "velero",
    cronJob: BACKUP_CHECK_CRONJOB,
    configMap: BACKUP_CHECK_RECORD,
    markerPrefix: NO_DATA_MARKER_PREFIX,
    periodSeconds: 3600,
});
/** Labels kube-state-metrics' scrape puts on every series (as kube-prometheus-stack scrapes it). */
const KSM = { job: "kube-state-metrics", instance: "10.42.0.9:8080", namespace: "velero" };
const series = (metric: string, labels: Record<string, string>) =>
    `${metric}{${Object.entries({ ...KSM, ...labels })
        .map(([k, v]) => `${k}="${v}"`)
        .join(",")}}`;

const claimAlert = (claimNamespace: string, claim: string) => {
    const configmap = `${NO_DATA_MARKER_PREFIX}.${claimNamespace}.${claim}`;
    return {
        exp_labels: { ...KSM, configmap, claim_namespace: claimNamespace, claim, severity: "critical" },
        exp_annotations: {
            summary: `Claim ${claimNamespace}/${claim} has no data in the newest backup`,
            description: `The newest backup holds the claim ${claimNamespace}/${claim} but not its data: a restore would bring it back empty. Why: \`kubectl get configmap ${configmap} -n velero -o yaml\` (skipped, a snapshot not moved into the vault, or a file-system backup that failed); README "Homelab (k3s) storage" says what each needs.`,
        },
    };
};

const CASES: Record<string, object> = {
    claimWithoutData: {
        // The hourly run at 03:30 found wiki/data and db/pg.data-0 without data; the one at 05:30 found them fixed.
        input_series: [
            { series: series("kube_configmap_info", { configmap: "gitops-dr-volume-policy" }), values: "1x400" },
            {
                series: series("kube_configmap_info", { configmap: `${NO_DATA_MARKER_PREFIX}.wiki.data` }),
                values: "_x210 1x120 _x70",
            },
            {
                series: series("kube_configmap_info", { configmap: `${NO_DATA_MARKER_PREFIX}.db.pg.data-0` }),
                values: "_x210 1x120 _x70",
            },
        ],
        alert_rule_test: [
            { eval_time: "3h", alertname: "GitopsDrClaimWithoutData", exp_alerts: [] },
            {
                eval_time: "4h",
                alertname: "GitopsDrClaimWithoutData",
                exp_alerts: [claimAlert("db", "pg.data-0"), claimAlert("wiki", "data")],
            },
            { eval_time: "6h", alertname: "GitopsDrClaimWithoutData", exp_alerts: [] },
        ],
    },
    failedRun: {
        // Runs every hour at :30 for 5 minutes; from 03:30 on every run fails.
        input_series: (() => {
            const H = 3600;
            const cron = { cronjob: BACKUP_CHECK_CRONJOB };
            const minutes = Array.from({ length: 361 }, (_, i) => i * 60);
            const lastRun = (t: number) => Math.floor((t - 1800) / H) * H + 1800;
            const values = (f: (t: number) => number | undefined) =>
                minutes.map((t) => (f(t) === undefined ? "_" : String(f(t)))).join(" ");
            return [
                { series: series("kube_cronjob_created", cron), values: values(() => 0) },
                {
                    series: series("kube_cronjob_status_last_schedule_time", cron),
                    values: values((t) => (t >= 1800 ? lastRun(t) : undefined)),
                },
                {
                    series: series("kube_cronjob_status_last_successful_time", cron),
                    values: values((t) =>
                        t < 1800 + 300 ? undefined : Math.min(lastRun(t - 300), 2 * H + 1800) + 300,
                    ),
                },
                {
                    series: series("kube_cronjob_status_active", cron),
                    values: values((t) => (t >= 1800 && (t - 1800) % H < 300 ? 1 : 0)),
                },
            ];
        })(),
        alert_rule_test: [
            { eval_time: "3h", alertname: "GitopsDrBackupCheckFailed", exp_alerts: [] },
            {
                eval_time: "4h",
                alertname: "GitopsDrBackupCheckFailed",
                exp_alerts: [
                    {
                        exp_labels: { ...KSM, cronjob: BACKUP_CHECK_CRONJOB, severity: "critical" },
                        exp_annotations: {
                            summary: "The last check of the backups' claims failed",
                            description: `A claim of the newest backup has no data, a newer backup failed, or the check itself failed. The record names them: \`kubectl get configmap ${BACKUP_CHECK_RECORD} -n velero -o jsonpath='{.data.last-run\\.json}'\`; the Job's log: \`kubectl get jobs -n velero --sort-by=.metadata.creationTimestamp\`, then \`kubectl logs -n velero job/<name>\`.`,
                        },
                    },
                ],
            },
        ],
    },
};

describe("backup check alerts under promtool", function () {
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
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "gitops-dr-backup-check-alerts-"));
        rulesFile = path.join(dir, "rules.yaml");
        fs.writeFileSync(rulesFile, stringify({ groups: [{ name: "gitops-dr-backup-check", rules: RULES }] }));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("the stale alert says how long: the check's period plus a day", () => {
        assert.equal(
            RULES.find((r) => r.alert === "GitopsDrBackupCheckStale")?.annotations.summary,
            "No check of the backups' claims has passed for 25 hours",
        );
    });

    it("promtool check rules accepts them (lint included)", () => {
        const run = spawnSync("promtool", ["check", "rules", "--lint=all", "--lint-fatal", rulesFile], {
            encoding: "utf8",
        });
        assert.equal(run.status, 0, run.stdout + run.stderr);
        assert.match(run.stdout, /SUCCESS: 3 rules found/);
    });

    for (const [name, testCase] of Object.entries(CASES)) {
        it(`${name}: fires as expected, silent otherwise`, () => {
            const run = promtoolTestRules(dir, name, {
                rule_files: [rulesFile],
                evaluation_interval: "1m",
                tests: [{ interval: "1m", ...testCase }],
            });
            assert.equal(run.status, 0, run.stdout + run.stderr);
        });
    }

    it("a wrong expectation fails promtool (the harness can fail)", () => {
        const c = CASES.claimWithoutData as { input_series: object[] };
        assert.notEqual(
            promtoolTestRules(dir, "wrong", {
                rule_files: [rulesFile],
                tests: [
                    {
                        interval: "1m",
                        input_series: c.input_series,
                        alert_rule_test: [
                            {
                                eval_time: "4h",
                                alertname: "GitopsDrClaimWithoutData",
                                exp_alerts: [claimAlert("wiki", "data")],
                            },
                        ],
                    },
                ],
            }).status,
            0,
        );
    });
});
