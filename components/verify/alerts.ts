/**
 * The verification's alerts, on kube-state-metrics' CronJob series (kube-state-metrics >= 2.8,
 * `internal/store/cronjob.go`: `kube_cronjob_status_last_schedule_time`, `kube_cronjob_status_last_successful_time`
 * from the CronJob's `status.lastSuccessfulTime`, `kube_cronjob_status_active`, `kube_cronjob_created`; labels
 * `namespace`, `cronjob`). A run that fails fails its Job, so the CronJob's last successful time stays behind its
 * last schedule time. The namespaces a run cannot prove are read from kube-state-metrics' ConfigMap series
 * (`internal/store/configmap.go`: `kube_configmap_created`, labels `namespace`, `configmap`; the configmaps
 * collector is on by default). tests/verify-alerts.test.ts proves them with promtool.
 */
import type { AlertRule, AlertRuleGroup } from "../velero/alerts";

/** Where the last run's record is (components/tasks/verify.js): the failing namespace and claim are named there. */
const readRecord = (namespace: string, configMap: string) =>
    `\`kubectl get configmap ${configMap} -n ${namespace} -o jsonpath='{.data.last-run\\.json}'\``;

/** How many periods namespaces may go unproven by the verification before an alert says so. */
export const NOT_VERIFIABLE_ALERT_PERIODS = 4;

/**
 * kube-state-metrics' CronJob series of one CronJob: `failed` holds when its last run was scheduled after its last
 * success (or none ever succeeded) and none is running; `stale` when no run succeeded for `staleAfter` seconds, or
 * none ever did since it was created that long ago. The comparisons match on every label (both series come from
 * the same kube-state-metrics target), so an alert carries the same labels either way.
 */
export function cronJobExprs(
    namespace: string,
    cronJob: string,
    staleAfter: number,
): { readonly failed: string; readonly stale: string } {
    const sel = `namespace="${namespace}", cronjob="${cronJob}"`;
    const on = "on (namespace, cronjob)";
    return {
        failed:
            `(kube_cronjob_status_last_schedule_time{${sel}} > kube_cronjob_status_last_successful_time{${sel}}` +
            ` or kube_cronjob_status_last_schedule_time{${sel}} unless ${on} kube_cronjob_status_last_successful_time{${sel}})` +
            ` unless ${on} kube_cronjob_status_active{${sel}} > 0`,
        stale:
            `time() - kube_cronjob_status_last_successful_time{${sel}} > ${staleAfter}` +
            ` or (time() - kube_cronjob_created{${sel}} > ${staleAfter} unless ${on} kube_cronjob_status_last_successful_time{${sel}})`,
    };
}

/** The verification's rules, for the CronJob `cronJob` in `namespace` that runs at least every `periodSeconds`. */
export function verificationAlertRules(args: {
    namespace: string;
    cronJob: string;
    configMap: string;
    /** The ConfigMap that exists while some namespaces are not verifiable (verify.js `markNotVerifiable`). */
    notVerifiableConfigMap: string;
    periodSeconds: number;
}): AlertRule[] {
    const staleAfter = args.periodSeconds + 86400;
    const exprs = cronJobExprs(args.namespace, args.cronJob, staleAfter);
    const days = Math.round((staleAfter / 86400) * 10) / 10;
    const record = readRecord(args.namespace, args.configMap);
    const unprovenAfter = NOT_VERIFIABLE_ALERT_PERIODS * args.periodSeconds;
    const unprovenDays = Math.round((unprovenAfter / 86400) * 10) / 10;
    const jobs = `\`kubectl get jobs -n ${args.namespace} --sort-by=.metadata.creationTimestamp\``;
    return [
        {
            alert: "GitopsDrBackupVerificationFailed",
            expr: exprs.failed,
            for: "15m",
            labels: { severity: "critical" },
            annotations: {
                summary: "The last verification of the backups failed",
                description: `Restoring the newest daily backup into scratch namespaces failed: a restore from it may fail too. The record names the failing namespace and claim: ${record}; the Job's log: ${jobs}, then \`kubectl logs -n ${args.namespace} job/<name>\`.`,
            },
        },
        {
            alert: "GitopsDrBackupVerificationStale",
            // No success within a period and a day: the CronJob is not running, or failing for a while.
            expr: exprs.stale,
            labels: { severity: "warning" },
            annotations: {
                summary: `No backup verification has passed for ${days} days`,
                description: `The backups have not been proven restorable for longer than the verification's period plus a day. Check the CronJob with \`kubectl get cronjob ${args.cronJob} -n ${args.namespace}\` and the last run's record: ${record}.`,
            },
        },
        {
            alert: "GitopsDrBackupNamespacesNotVerifiable",
            // The ConfigMap exists while the runs find namespaces they cannot prove, and was created by the first
            // run that found them: its age is how long some namespace has gone without a weekly proof.
            expr: `time() - kube_configmap_created{namespace="${args.namespace}", configmap="${args.notVerifiableConfigMap}"} > ${unprovenAfter}`,
            labels: { severity: "warning" },
            annotations: {
                summary: `Some namespaces have not been verifiable for ${unprovenDays} days`,
                description: `The weekly verification passes without them: their data comes back only into pods Velero restores (file-system backup), from native snapshots, or as the live volume, none of which a restore into scratch namespaces can take. Only a drill proves them. Which and why: \`kubectl get configmap ${args.notVerifiableConfigMap} -n ${args.namespace} -o jsonpath='{.data.namespaces\\.json}'\`. Run a drill (README "Run the yearly drill") and silence this alert until the next one, or move those volumes to the CSI data mover (README "Homelab (k3s) storage").`,
            },
        },
    ];
}

/** The rule group of the verification's PrometheusRule. */
export function verificationAlertGroup(rules: readonly AlertRule[]): AlertRuleGroup {
    return { name: "gitops-dr-backup-verification", rules };
}

/**
 * The backup check's rules (components/tasks/backup-check.js). `GitopsDrClaimWithoutData` names each claim from its
 * marker ConfigMap `<markerPrefix>.<namespace>.<claim>`, which kube-state-metrics exports as `kube_configmap_info`
 * (labels `namespace`, `configmap`; ConfigMaps are among its default resources, `internal/store/configmap.go`), so
 * no allowlist of labels or annotations is needed. The CronJob's own failure and staleness come from its series as
 * for the verification.
 */
export function backupCheckAlertRules(args: {
    namespace: string;
    cronJob: string;
    configMap: string;
    markerPrefix: string;
    periodSeconds: number;
}): AlertRule[] {
    const prefix = args.markerPrefix.replace(/[.*+?^${}()|[\]\\]/g, "\\\\$&");
    const markers = `kube_configmap_info{namespace="${args.namespace}", configmap=~"${prefix}\\\\..+"}`;
    const withNamespace = `label_replace(${markers}, "claim_namespace", "$1", "configmap", "${prefix}\\\\.([^.]+)\\\\..+")`;
    const expr = `label_replace(${withNamespace}, "claim", "$1", "configmap", "${prefix}\\\\.[^.]+\\\\.(.+)")`;
    const staleAfter = args.periodSeconds + 86400;
    const exprs = cronJobExprs(args.namespace, args.cronJob, staleAfter);
    const record = readRecord(args.namespace, args.configMap);
    const jobs = `\`kubectl get jobs -n ${args.namespace} --sort-by=.metadata.creationTimestamp\``;
    return [
        {
            alert: "GitopsDrClaimWithoutData",
            expr,
            labels: { severity: "critical" },
            annotations: {
                summary: "Claim {{ $labels.claim_namespace }}/{{ $labels.claim }} has no data in the newest backup",
                description: `The newest backup holds the claim {{ $labels.claim_namespace }}/{{ $labels.claim }} but not its data: a restore would bring it back empty. Why: \`kubectl get configmap {{ $labels.configmap }} -n ${args.namespace} -o yaml\` (skipped, a snapshot not moved into the vault, or a file-system backup that failed); README "Homelab (k3s) storage" says what each needs.`,
            },
        },
        {
            alert: "GitopsDrBackupCheckFailed",
            expr: exprs.failed,
            for: "15m",
            labels: { severity: "critical" },
            annotations: {
                summary: "The last check of the backups' claims failed",
                description: `A claim of the newest backup has no data, a newer backup failed, or the check itself failed. The record names them: ${record}; the Job's log: ${jobs}, then \`kubectl logs -n ${args.namespace} job/<name>\`.`,
            },
        },
        {
            alert: "GitopsDrBackupCheckStale",
            expr: exprs.stale,
            labels: { severity: "warning" },
            annotations: {
                summary: `No check of the backups' claims has passed for ${Math.round(staleAfter / 3600)} hours`,
                description: `No run of the check that every backed-up claim has data has passed for longer than its period plus a day. Check the CronJob with \`kubectl get cronjob ${args.cronJob} -n ${args.namespace}\` and the last run's record: ${record}.`,
            },
        },
    ];
}
