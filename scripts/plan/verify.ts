/**
 * How to verify a step by hand once `pulumi up` has done it: the commands an operator runs (helm, kubectl,
 * velero, the AWS CLI) and what each prints when the step went well, by chart and by resource type.
 */
import { RegisteredResource } from "../../engine";
import { goDurationString } from "./durations";
import { Check, StepReason } from "./model";
import { JOB, specOf, str } from "./registrations";

/** The object a step creates, as the verifying commands name it. */
export interface Target {
    readonly objectName: string;
    readonly namespace?: string;
}

const nsFlag = (t: Target) => (t.namespace === undefined ? "" : ` -n ${t.namespace}`);
const regionFlag = (r: RegisteredResource) =>
    str(r.inputs.region) === undefined ? "" : ` --region ${String(r.inputs.region)}`;

type Verifier = (r: RegisteredResource, t: Target) => Check[];

/** Chart-specific checks, on top of the ones every Helm release gets. */
const CHART_CHECKS: Readonly<Record<string, Verifier>> = {
    velero: (r, t) => {
        const tag = str(((r.inputs.values ?? {}) as { image?: { tag?: unknown } }).image?.tag);
        return tag === undefined
            ? []
            : [
                  {
                      command: `velero version${nsFlag(t)}`,
                      expect: `\`Server:\` \`Version: ${tag}\` (the server answers)`,
                  },
              ];
    },
};

/** Checks by resource type; anything else gets the generic `kubectl get` check of its wait conditions. */
const CHECKS: Readonly<Record<string, Verifier>> = {
    "kubernetes:velero.io/v1:BackupStorageLocation": (r, t) => {
        const spec = specOf(r);
        const storage = (spec.objectStorage ?? {}) as { bucket?: string; prefix?: string };
        const config = (spec.config ?? {}) as { region?: unknown; kmsKeyId?: unknown };
        return [
            {
                command: `velero backup-location get ${t.objectName}${nsFlag(t)}`,
                expect: `PHASE \`Available\`, BUCKET/PREFIX \`${storage.bucket ?? ""}${storage.prefix === undefined ? "" : `/${storage.prefix}`}\`, ACCESS MODE \`${str(spec.accessMode) ?? "ReadWrite"}\``,
            },
            {
                // `velero backup-location get` shows no region or key: a location on the replica differs only there.
                command: `kubectl get backupstoragelocation ${t.objectName}${nsFlag(t)} -o jsonpath='{.spec.config.region} {.spec.config.kmsKeyId}'`,
                expect: `\`${str(config.region) ?? ""} ${str(config.kmsKeyId) ?? ""}\`: the bucket's region and the key Velero encrypts and decrypts with`,
            },
            {
                command: `velero backup get${nsFlag(t)}`,
                expect: `the backups found under that prefix, STORAGE LOCATION \`${t.objectName}\`, synced into the cluster`,
            },
        ];
    },
    "kubernetes:velero.io/v1:Restore": (r, t) => {
        const spec = specOf(r);
        const backup =
            str(spec.backupName) ?? `the newest Completed backup of schedule \`${String(spec.scheduleName)}\``;
        return [
            {
                command: `velero restore get ${t.objectName}${nsFlag(t)}`,
                expect: `STATUS \`Completed\`, ERRORS \`0\`, BACKUP ${str(spec.backupName) === undefined ? backup : `\`${backup}\``}`,
            },
            {
                command: `velero restore describe ${t.objectName} --details${nsFlag(t)}`,
                expect: "`Phase:` `Completed` and the restored PersistentVolumes, PersistentVolumeClaims and Secrets; any other phase already stopped `pulumi up` with this command in its message",
            },
        ];
    },
    "kubernetes:velero.io/v1:Schedule": (r, t) => {
        const spec = specOf(r);
        const ttl = str(((spec.template ?? {}) as { ttl?: unknown }).ttl);
        return [
            {
                command: `velero schedule get ${t.objectName}${nsFlag(t)}`,
                expect: `STATUS \`Enabled\`, SCHEDULE \`${String(spec.schedule)}\`${ttl === undefined ? "" : `, BACKUP TTL \`${goDurationString(ttl)}\``}; the first backup runs at the next tick, not at creation`,
            },
        ];
    },
    "kubernetes:argoproj.io/v1alpha1:Application": (_r, t) => [
        {
            command: `kubectl get applications.argoproj.io ${t.objectName}${nsFlag(t)}`,
            expect: "SYNC STATUS `Synced`, HEALTH STATUS `Healthy` once Argo CD has synced what it points at",
        },
    ],
    [JOB]: (r, t) => {
        const completions = typeof specOf(r).completions === "number" ? (specOf(r).completions as number) : 1;
        return [
            {
                command: `kubectl get job ${t.objectName}${nsFlag(t)}`,
                expect: `COMPLETIONS \`${completions}/${completions}\``,
            },
            { command: `kubectl logs job/${t.objectName}${nsFlag(t)}`, expect: "the Job's report" },
        ];
    },
    "aws:s3/bucket:Bucket": (r, t) => [
        {
            command: `aws s3api head-bucket --bucket ${t.objectName}${regionFlag(r)}`,
            expect: "exits 0: the bucket exists and these credentials reach it",
        },
        ...(r.inputs.objectLockEnabled === true
            ? [
                  {
                      command: `aws s3api get-object-lock-configuration --bucket ${t.objectName}${regionFlag(r)}`,
                      expect: '`"ObjectLockEnabled": "Enabled"` (only settable at creation)',
                  },
              ]
            : []),
    ],
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": (r, t) => {
        const retention =
            ((r.inputs.rule ?? {}) as { defaultRetention?: { mode?: string; days?: number; years?: number } })
                .defaultRetention ?? {};
        return [
            {
                command: `aws s3api get-object-lock-configuration --bucket ${t.objectName}${regionFlag(r)}`,
                expect: `\`"Mode": "${retention.mode ?? ""}"\`, \`"${retention.days !== undefined ? "Days" : "Years"}": ${retention.days ?? retention.years ?? ""}\``,
            },
        ];
    },
};

/** The commands that verify a step, with what each prints when it went well. */
export function checksOf(r: RegisteredResource, reason: StepReason, t: Target, waits: readonly string[]): Check[] {
    if (reason === "helm") {
        const chart = str(r.inputs.chart) ?? "";
        const version = str(r.inputs.version);
        return [
            {
                command: `helm list${nsFlag(t)} --filter '^${t.objectName}$'`,
                expect: `STATUS \`deployed\`, CHART \`${chart}${version === undefined ? "" : `-${version}`}\``,
            },
            // Charts label what they render with app.kubernetes.io/instance=<release> (Helm's recommended labels).
            {
                command: `kubectl get deploy,statefulset,daemonset${nsFlag(t)} -l app.kubernetes.io/instance=${t.objectName}`,
                expect: "every READY count full",
            },
            ...(CHART_CHECKS[chart]?.(r, t) ?? []),
        ];
    }
    const specific = CHECKS[r.type];
    if (specific !== undefined) {
        return specific(r, t);
    }
    const resource = r.type.split(":")[2]?.toLowerCase() ?? r.type;
    return [
        {
            command: `kubectl get ${resource} ${t.objectName}${nsFlag(t)} -o yaml`,
            expect: waits.length > 0 ? waits.join("; ") : "the object exists",
        },
    ];
}
