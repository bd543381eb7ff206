import * as assert from "node:assert/strict";

import { runProgram } from "../engine";
import { RECOVER_CONFIG, STACK_REFERENCES, STACK_SECRETS } from "./fixtures";

describe("offline engine", () => {
    it("records parents, providers, explicit and property dependencies, protect and retainOnDelete", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        const vault = run.one("gitops-dr:vault:BackupVault");
        const bucket = run.one("aws:s3/bucket:Bucket", "gitops-dr-prod-vault-bucket");
        const versioning = run.one("aws:s3/bucketVersioning:BucketVersioning", "gitops-dr-prod-vault-versioning");
        const lock = run.one(
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "gitops-dr-prod-vault-lock",
        );
        const release = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "velero")!;
        const repoSecret = run.one("kubernetes:core/v1:Secret", "gitops-dr-prod-velero-repo-credentials");

        // parent
        assert.equal(bucket.parent, vault.urn);
        assert.ok(run.descendants(vault).some((r) => r.urn === bucket.urn));
        // a dependsOn edge
        assert.ok(lock.dependencies.includes(versioning.urn));
        assert.ok(release.dependencies.includes(repoSecret.urn));
        // a property dependency: the versioning's `bucket` input comes from the bucket
        assert.deepEqual(versioning.propertyDependencies.bucket, [bucket.urn]);
        // transitive: the lock waits for versioning, which waits for the bucket
        assert.ok(run.dependsOn(lock, bucket));
        assert.ok(!run.dependsOn(bucket, lock));
        // options
        assert.equal(bucket.protect, true);
        assert.equal(bucket.retainOnDelete, true);
        assert.equal(release.protect, false);
        // provider and custom timeouts
        assert.equal(run.byUrn(release.provider!).type, "pulumi:providers:kubernetes");
        assert.equal(run.byUrn(bucket.provider!).type, "pulumi:providers:aws");
        assert.deepEqual(release.customTimeouts, { create: "20m", update: "20m", delete: undefined });
    });

    it("marks secret inputs and unwraps them", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        const secret = run.one("kubernetes:core/v1:Secret", "gitops-dr-prod-velero-repo-credentials");
        assert.ok(
            secret.secretPaths.some((p) => p.startsWith("stringData")),
            `secret paths: ${secret.secretPaths.join(", ")}`,
        );
        assert.deepEqual(secret.inputs.stringData, { "repository-password": STACK_SECRETS.repoPassword });
    });

    it("applies Pulumi.yaml defaults, then the stack file, then per-test overrides", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { lockDays: 40 } });
        assert.equal(run.config["gitops-dr:mode"], "protect"); // stack file (also the default)
        assert.equal(run.config["gitops-dr:veleroNamespace"], "velero"); // Pulumi.yaml default
        assert.equal(run.config["gitops-dr:lockMode"], "COMPLIANCE"); // stack file
        assert.equal(run.config["gitops-dr:lockDays"], "40"); // override wins over the stack file's 31
        const lock = run.one(
            "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
            "gitops-dr-prod-vault-lock",
        );
        assert.deepEqual(lock.inputs.rule, { defaultRetention: { mode: "COMPLIANCE", days: 40 } });
    });

    it("answers stack references from fixtures", async () => {
        const run = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        assert.equal(run.outputs.bucketName, STACK_REFERENCES["acme/gitops-dr/prod"].bucketName);
        assert.equal(run.outputs.sourcePrefix, "prod-eu-1");
        await assert.rejects(
            runProgram({ stack: "drill", secrets: STACK_SECRETS }),
            /no outputs for stack reference acme\/gitops-dr\/prod/,
        );
    });

    it("rejects with the program's configuration error", async () => {
        await assert.rejects(
            runProgram({ stack: "prod", secrets: STACK_SECRETS, config: { lockMode: "STRICT" } }),
            (e: Error) => {
                assert.match(e.message, /gitops-dr:lockMode: "STRICT" is not one of GOVERNANCE, COMPLIANCE/);
                return true;
            },
        );
    });

    it("runs stacks independently in one process", async () => {
        const prod = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        const drill = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        // The vault, its replica and the audit trail's log bucket.
        assert.equal(prod.ofType("aws:s3/bucket:Bucket").length, 3);
        assert.equal(drill.ofType("aws:s3/bucket:Bucket").length, 0);
        assert.ok(drill.resources.every((r) => !r.urn.includes("::gitops-dr-prod")));
    });
});

describe("stack files", () => {
    it("Pulumi.prod.yaml evaluates: a protect stack with a vault, a replica and a daily schedule", async () => {
        const run = await runProgram({ stack: "prod", secrets: STACK_SECRETS });
        assert.equal(run.outputs.mode, "protect");
        assert.equal(run.outputs.bucketName, "acme-gitops-dr-vault");
        assert.deepEqual(run.outputs.veleroScheduleNames, ["prod-eu-1-daily"]);
        assert.ok(run.outputs.replica !== undefined);
    });

    it("Pulumi.drill.yaml evaluates: read-only, no bucket, no schedule", async () => {
        const run = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        assert.equal(run.outputs.mode, "drill");
        assert.deepEqual(run.outputs.veleroScheduleNames, []);
        assert.equal(run.ofType("aws:s3/bucket:Bucket").length, 0);
    });

    it("a recover stack evaluates from Pulumi.yaml defaults and prod's outputs", async () => {
        const run = await runProgram({
            stack: "recover",
            config: RECOVER_CONFIG,
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        });
        assert.equal(run.outputs.prefix, "prod-eu-2");
        assert.equal(run.outputs.sourcePrefix, "prod-eu-1");
    });
});

describe("logical names of a rebuilt cluster's objects", () => {
    // recover and drill adopt existing objects (upsertExistingObjects): renaming one of these logical resources
    // would upsert the same object and then delete it (pulumi-kubernetes #2926). A rename must come with an
    // `aliases` option for the old name; this list makes a rename visible in review.
    const k8sNames = (run: Awaited<ReturnType<typeof runProgram>>) =>
        run.resources
            .filter((r) => r.type.startsWith("kubernetes:"))
            .map((r) => `${r.type} ${r.name.replace(/^gitops-dr-\w+-/, "")}`)
            .sort();

    it("are pinned: a change here needs an alias for the old name", async () => {
        const drill = await runProgram({ stack: "drill", secrets: STACK_SECRETS, stackReferences: STACK_REFERENCES });
        const recover = await runProgram({
            stack: "recover",
            config: RECOVER_CONFIG,
            secrets: STACK_SECRETS,
            stackReferences: STACK_REFERENCES,
        });
        assert.deepEqual(k8sNames(drill), [
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy isolation-gitops-dr-drill-egress-guard",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy isolation-gitops-dr-drill-no-cronjob-runs",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy isolation-gitops-dr-drill-no-host-network",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding isolation-gitops-dr-drill-egress-guard",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding isolation-gitops-dr-drill-no-cronjob-runs",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding isolation-gitops-dr-drill-no-host-network",
            "kubernetes:argoproj.io/v1alpha1:Application argocd-root-app",
            "kubernetes:batch/v1:Job credentials-restore-check-job",
            "kubernetes:batch/v1:Job credentials-restore-report-job",
            "kubernetes:batch/v1:Job isolation-task-job",
            "kubernetes:batch/v1:Job restore-check-job",
            "kubernetes:batch/v1:Job restore-report-job",
            "kubernetes:batch/v1:Job verify-job",
            "kubernetes:core/v1:ConfigMap credentials-restore-check-scripts",
            "kubernetes:core/v1:ConfigMap credentials-restore-modifiers",
            "kubernetes:core/v1:ConfigMap credentials-restore-report-scripts",
            "kubernetes:core/v1:ConfigMap isolation-task-scripts",
            "kubernetes:core/v1:ConfigMap restore-check-scripts",
            "kubernetes:core/v1:ConfigMap restore-modifiers",
            "kubernetes:core/v1:ConfigMap restore-report-scripts",
            "kubernetes:core/v1:Namespace argocd-namespace",
            "kubernetes:core/v1:Namespace velero-namespace",
            "kubernetes:core/v1:Secret velero-repo-credentials",
            "kubernetes:core/v1:ServiceAccount credentials-restore-check-sa",
            "kubernetes:core/v1:ServiceAccount credentials-restore-report-sa",
            "kubernetes:core/v1:ServiceAccount isolation-task-sa",
            "kubernetes:core/v1:ServiceAccount restore-check-sa",
            "kubernetes:core/v1:ServiceAccount restore-report-sa",
            "kubernetes:core/v1:ServiceAccount verify-sa",
            "kubernetes:helm.sh/v3:Release argocd-release",
            "kubernetes:helm.sh/v3:Release velero-release",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole credentials-restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole credentials-restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole isolation-task-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole verify-read",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding credentials-restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding credentials-restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding isolation-task-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding verify-read",
            "kubernetes:rbac.authorization.k8s.io/v1:Role credentials-restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role credentials-restore-report-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role isolation-task-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role restore-report-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding credentials-restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding credentials-restore-report-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding isolation-task-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding restore-report-role",
            "kubernetes:velero.io/v1:BackupStorageLocation velero-source-location",
            "kubernetes:velero.io/v1:Restore credentials-restore-restore",
            "kubernetes:velero.io/v1:Restore restore-restore",
        ]);
        assert.deepEqual(k8sNames(recover), [
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy backup-check-markers-only",
            "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding backup-check-markers-only",
            "kubernetes:argoproj.io/v1alpha1:Application argocd-root-app",
            "kubernetes:batch/v1:CronJob backup-check-cronjob",
            "kubernetes:batch/v1:Job credentials-restore-check-job",
            "kubernetes:batch/v1:Job credentials-restore-report-job",
            "kubernetes:batch/v1:Job restore-check-job",
            "kubernetes:batch/v1:Job restore-report-job",
            "kubernetes:core/v1:ConfigMap backup-check-scripts",
            "kubernetes:core/v1:ConfigMap credentials-restore-check-scripts",
            "kubernetes:core/v1:ConfigMap credentials-restore-modifiers",
            "kubernetes:core/v1:ConfigMap credentials-restore-report-scripts",
            "kubernetes:core/v1:ConfigMap restore-check-scripts",
            "kubernetes:core/v1:ConfigMap restore-modifiers",
            "kubernetes:core/v1:ConfigMap restore-report-scripts",
            "kubernetes:core/v1:ConfigMap velero-volume-policy",
            "kubernetes:core/v1:Namespace argocd-namespace",
            "kubernetes:core/v1:Namespace velero-namespace",
            "kubernetes:core/v1:Secret velero-repo-credentials",
            "kubernetes:core/v1:ServiceAccount backup-check-sa",
            "kubernetes:core/v1:ServiceAccount credentials-restore-check-sa",
            "kubernetes:core/v1:ServiceAccount credentials-restore-report-sa",
            "kubernetes:core/v1:ServiceAccount restore-check-sa",
            "kubernetes:core/v1:ServiceAccount restore-report-sa",
            "kubernetes:helm.sh/v3:Release argocd-release",
            "kubernetes:helm.sh/v3:Release velero-release",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole credentials-restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole credentials-restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding credentials-restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding credentials-restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding restore-check-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding restore-report-cluster-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role backup-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role credentials-restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role credentials-restore-report-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:Role restore-report-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding backup-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding credentials-restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding credentials-restore-report-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding restore-check-role",
            "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding restore-report-role",
            "kubernetes:velero.io/v1:BackupStorageLocation velero-source-location",
            "kubernetes:velero.io/v1:Restore credentials-restore-restore",
            "kubernetes:velero.io/v1:Restore restore-restore",
            "kubernetes:velero.io/v1:Schedule velero-schedule-credentials",
            "kubernetes:velero.io/v1:Schedule velero-schedule-daily",
        ]);
    });
});

describe("stack traces under the engine", () => {
    before(async () => {
        await runProgram({ stack: "prod", secrets: STACK_SECRETS });
    });

    it("Pulumi's unbounded per-resource capture is plain and bounded (engine/stack-traces.ts)", () => {
        const limit = Error.stackTraceLimit;
        try {
            Error.stackTraceLimit = Number.POSITIVE_INFINITY;
            const lines = (new Error("capture").stack ?? "").split("\n");
            assert.equal(lines[0], "Error: capture");
            assert.ok(lines.length - 1 <= 16, `${lines.length - 1} frames`);
            // Pulumi's parser (resource.ts `callsites`) reads `at fn (file:line:column)`.
            assert.match(lines[1], /^ {4}at .*engine\.test\.ts:\d+:\d+\)?$/);
        } finally {
            Error.stackTraceLimit = limit;
        }
    });

    it("any other stack trace is still complete and mapped by ts-node", () => {
        const nested = (depth: number): Error => (depth === 0 ? new Error("deep") : nested(depth - 1));
        const frames = (nested(5).stack ?? "").split("\n").filter((l) => l.includes("nested"));
        assert.equal(frames.length, 6);
        assert.ok(Error.prepareStackTrace !== undefined);
    });
});
