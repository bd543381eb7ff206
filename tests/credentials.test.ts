/**
 * The secrets neither git nor the daily backup covers (components/velero/credentials.ts), on the simulated
 * cluster: what the credentials Schedule selects from a source cluster, what its Restore brings back in a recover
 * and a drill stack, and that it lands before Argo CD's root Application.
 */
import * as assert from "node:assert/strict";

import { credentialSelectors, credentialsScheduleSpec } from "../components/velero/credentials";
import { ProgramRun, STACKS, runProgram, stackRunOptions } from "../engine";
import { backupContents, defaultScheduleTemplate, namespaceGlob, sourceCluster } from "../engine/cluster/scenario";
import { inRestoreOrder, secretAction, tokenController } from "../engine/cluster/restore-actions";
import type { KubeObject } from "../engine/cluster";

const id = (o: KubeObject) => `${String(o.metadata.namespace)}/${String(o.metadata.name)}`;

/** The Secrets the run left in the simulated cluster that a Restore of `kind` brought back. */
function restoredBy(run: ProgramRun, kind: "data" | "credentials"): string[] {
    const restore = run.restore(kind);
    const name = (restore.inputs.metadata as { name: string }).name;
    return run
        .cluster!.store.all()
        .filter((o) => o.kind === "Secret" && o.metadata.labels?.["velero.io/restore-name"] === name)
        .map(id)
        .sort();
}

describe("credentials backup: what the Schedule takes", () => {
    const tier = {
        key: "credentials",
        name: "prod-eu-1-credentials",
        cron: "0 2 * * *",
        ttl: "720h",
        ttlHours: 720,
    } as const;
    const taken = backupContents(sourceCluster(), credentialsScheduleSpec(tier).template as KubeObject)
        .map(id)
        .sort();

    it("takes the sealing keys and the credentials Argo CD reads, in whatever namespace", () => {
        assert.deepEqual(taken, [
            "argocd/cluster-edge-1",
            "argocd/repo-payments",
            "kube-system/sealed-secrets-keyx7k2p",
            "sealed-secrets/sealed-secrets-key9q8wz",
        ]);
    });

    it("neither Schedule takes the weekly verification's scratch copies", () => {
        // A verification restoring shop while a backup runs: its copies live in gdr-verify-shop for a while.
        const copies: KubeObject[] = [
            {
                apiVersion: "v1",
                kind: "Secret",
                metadata: {
                    name: "repo-payments",
                    namespace: "gdr-verify-shop",
                    labels: { "argocd.argoproj.io/secret-type": "repository" },
                },
            },
            {
                apiVersion: "v1",
                kind: "PersistentVolumeClaim",
                metadata: { name: "data", namespace: "gdr-verify-shop" },
            },
            { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: "shop" } },
        ];
        const cluster = [...sourceCluster(), ...copies];
        const credentials = backupContents(cluster, credentialsScheduleSpec(tier).template as KubeObject).map(id);
        assert.ok(credentials.includes("argocd/repo-payments"), "the live credential is still taken");
        assert.ok(!credentials.includes("gdr-verify-shop/repo-payments"));
        const data = backupContents(cluster, defaultScheduleTemplate()).map(id);
        assert.ok(data.includes("shop/data"), "the live claim is still taken");
        assert.ok(!data.some((o) => o.startsWith("gdr-verify-")), data.join(", "));
    });

    it("namespace filters match as Velero's globs", () => {
        assert.equal(namespaceGlob("gdr-verify-*", "gdr-verify-shop"), true);
        assert.equal(namespaceGlob("gdr-verify-*", "gdr-verify"), false);
        assert.equal(namespaceGlob("gdr-verify-*", "shop"), false);
        assert.equal(namespaceGlob("*", "shop"), true);
        assert.equal(namespaceGlob("team-?", "team-a"), true);
        assert.equal(namespaceGlob("team-[ab]", "team-c"), false);
        assert.equal(namespaceGlob("a.b", "axb"), false, "a dot is literal");
    });

    it("leaves out what the chart and the program create again, and every other Secret", () => {
        for (const left of [
            "argocd/argocd-secret",
            "argocd/root-repository",
            "velero/velero-repo-credentials",
            "shop/shop-db",
        ]) {
            assert.ok(!taken.includes(left), left);
        }
    });

    it("a drill's selectors drop cluster and write credentials and keep repository and SCM ones", () => {
        const labels = (type: string) => ({ "argocd.argoproj.io/secret-type": type });
        const drill = credentialSelectors(true);
        const prod = credentialSelectors(false);
        const matches = (selectors: Record<string, unknown>[], l: Record<string, string>) =>
            backupContents(
                [{ apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "argocd", labels: l } }],
                { includedResources: ["secrets"], orLabelSelectors: selectors },
            ).length === 1;
        for (const type of ["cluster", "repository-write", "repo-write-creds"]) {
            assert.equal(matches(drill, labels(type)), false, type);
            assert.equal(matches(prod, labels(type)), true, type);
        }
        for (const type of ["repository", "repo-creds", "scm-creds"]) {
            assert.equal(matches(drill, labels(type)), true, type);
            assert.equal(matches(prod, labels(type)), true, type);
        }
    });
});

describe("credentials backup: whose Secrets", () => {
    const taken = (labels: Record<string, string>) =>
        backupContents([{ apiVersion: "v1", kind: "Secret", metadata: { name: "s", namespace: "argocd", labels } }], {
            includedResources: ["secrets"],
            orLabelSelectors: credentialSelectors(),
        }).length === 1;
    const repo = { "argocd.argoproj.io/secret-type": "repository" };

    it("leaves out the argo-cd chart's (managed-by Helm, part-of argocd: argo-helm argo-cd.labels)", () => {
        assert.equal(
            taken({ ...repo, "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/part-of": "argocd" }),
            false,
        );
    });
    it("takes one another chart or a tool made, and one made by hand", () => {
        assert.equal(
            taken({ ...repo, "app.kubernetes.io/managed-by": "Helm", "app.kubernetes.io/part-of": "platform" }),
            true,
        );
        assert.equal(taken({ ...repo, "app.kubernetes.io/managed-by": "kinder" }), true);
        assert.equal(taken(repo), true);
    });
    it("leaves out gitops-dr's own", () => {
        assert.equal(taken({ ...repo, "gitops-dr.io/managed": "true" }), false);
    });
});

describe("credentials restore on the simulated cluster", () => {
    let recover: ProgramRun;
    let drill: ProgramRun;
    before(async () => {
        recover = await runProgram(stackRunOptions(STACKS.recover));
        drill = await runProgram(stackRunOptions(STACKS.drill));
    });

    it("recover brings back the sealing key and every Argo CD credential, by the credentials Restore", () => {
        assert.deepEqual(restoredBy(recover, "credentials"), [
            "argocd/cluster-edge-1",
            "argocd/repo-payments",
            "kube-system/sealed-secrets-keyx7k2p",
            "sealed-secrets/sealed-secrets-key9q8wz",
        ]);
    });

    it("a drill brings back the sealing key and repository credentials, never prod's cluster credentials", () => {
        assert.deepEqual(restoredBy(drill, "credentials"), [
            "argocd/repo-payments",
            "kube-system/sealed-secrets-keyx7k2p",
            "sealed-secrets/sealed-secrets-key9q8wz",
        ]);
        const everything = drill.cluster!.store.all().map(id);
        assert.ok(!everything.includes("argocd/cluster-edge-1"));
    });

    it("a sealing key in a backed-up namespace comes back once, by the credentials Restore, with no warning", () => {
        for (const run of [recover, drill]) {
            assert.ok(!restoredBy(run, "data").includes("sealed-secrets/sealed-secrets-key9q8wz"));
            for (const kind of ["data", "credentials"] as const) {
                const status = run.restore(kind).outputs.status as { warnings: number };
                assert.equal(status.warnings, 0, `${kind} restore warned`);
            }
        }
    });

    it("restored Argo CD credentials may be taken over by Sealed Secrets (the credentials Restore's modifiers)", () => {
        const secret = recover
            .cluster!.store.all()
            .find((o) => o.kind === "Secret" && id(o) === "argocd/repo-payments");
        assert.equal(secret?.metadata.annotations?.["sealedsecrets.bitnami.com/managed"], "true");
    });

    for (const name of ["recover", "drill"] as const) {
        it(`${name}: the root Application waits for the credentials Restore`, () => {
            const run = name === "recover" ? recover : drill;
            const root = run
                .ofType("kubernetes:argoproj.io/v1alpha1:Application")
                .find((a) => (a.inputs.metadata as { name: string }).name.endsWith("root") || a.name.includes("root"));
            assert.ok(root, "no root Application");
            const restore = run.restore("credentials");
            assert.ok(run.dependsOn(root, restore), "the root Application does not wait for the credentials Restore");
        });
    }
});

describe("service-account tokens made by hand", () => {
    const account = (name: string): KubeObject => ({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name, namespace: "shop" },
    });
    const token = (name: string, sa: string): KubeObject => ({
        apiVersion: "v1",
        kind: "Secret",
        type: "kubernetes.io/service-account-token",
        metadata: {
            name,
            namespace: "shop",
            annotations: { "kubernetes.io/service-account.name": sa, "kubernetes.io/service-account.uid": "old-uid" },
        },
        data: { token: "b2xk", "ca.crt": "b2xk", namespace: "c2hvcA==" },
    });

    it("Velero restores ServiceAccounts before Secrets (defaultRestorePriorities), whatever the backup's order", () => {
        const order = inRestoreOrder([token("t", "ci"), account("ci")]).map((o) => String(o.kind));
        assert.deepEqual(order, ["ServiceAccount", "Secret"]);
    });

    it("a token whose ServiceAccount is not there when it is created is deleted: the order is what keeps it", () => {
        assert.equal(tokenController(secretAction(token("ci-deployer-token", "ci"), [])!, []), undefined);
        const kept = tokenController(secretAction(token("ci-deployer-token", "ci"), [account("ci")])!, [account("ci")]);
        assert.ok(kept !== undefined);
        assert.notEqual(
            kept.data.token,
            "b2xk",
            "the token is a new one: the old one named the lost ServiceAccount's UID",
        );
    });

    it("a token named <sa>-token-<suffix> is skipped by Velero, as if the cluster made it (secret_action.go)", () => {
        assert.equal(secretAction(token("ci-token-x7k2p", "ci"), [account("ci")]), undefined);
    });

    it("recover: the hand-made token comes back with its ServiceAccount, filled with a new token", async () => {
        const run = await runProgram(stackRunOptions(STACKS.recover));
        const all = run.cluster!.store.all();
        assert.ok(all.some((o) => o.kind === "ServiceAccount" && id(o) === "shop/ci-deployer"));
        const secret = all.find((o) => o.kind === "Secret" && id(o) === "shop/ci-deployer-token");
        assert.ok(secret, "the token Secret was not restored");
        assert.equal(secret.metadata.annotations["kubernetes.io/service-account.uid"], "uid-after-restore");
    });
});

describe("a source without credentials backups", () => {
    it("recover stops before the credentials Restore, naming restoreCredentials false; with it, the run goes on", async () => {
        const options = { ...stackRunOptions(STACKS.recover), cluster: { credentialsBackups: [] } };
        const error = await runProgram(options).then(
            () => assert.fail("the run went on"),
            (e: unknown) => e as Error,
        );
        const message = `${String(error)} ${String((error as { cause?: unknown }).cause)}`;
        assert.match(message, /No Completed backup of schedule prod-eu-1-credentials/);
        assert.match(message, /pulumi config set gitops-dr:restoreCredentials false/);
        const run = await runProgram({ ...options, config: { ...options.config, restoreCredentials: false } });
        assert.equal(run.ofType("kubernetes:velero.io/v1:Restore").length, 1, "the data Restore only");
    });
});

describe("the credentials restore's checks and the data restore's claims", () => {
    /* eslint-disable-next-line @typescript-eslint/no-require-imports -- the tasks are CommonJS scripts */
    const tasks = require("../components/tasks/pre-restore.js") as {
        preRestore(api: unknown, args: Record<string, unknown>): Promise<unknown>;
    };
    // A data restore in flight: its claim waits for its DataDownload (Pending, with Velero's selector).
    const inFlight = {
        kind: "PersistentVolumeClaim",
        metadata: { name: "data", namespace: "shop", labels: { "velero.io/restore-name": "prod-eu-2-2026-11-25" } },
        spec: { selector: { matchLabels: { "velero.io/dynamic-pv-restore": "x" } } },
        status: { phase: "Pending" },
    };
    const api = {
        list: (path: string) => Promise.resolve(path.endsWith("/persistentvolumeclaims") ? [inFlight] : []),
        get: () => Promise.resolve({ status: { phase: "InProgress" } }),
        remove: () => assert.fail("a claim was removed"),
        now: () => new Date("2026-11-25T10:00:00Z"),
    };
    const args = (kind: "data" | "credentials") => ({
        veleroNamespace: "velero",
        restoreName: `prod-eu-2-2026-11-25-${kind}`,
        restorePrefix: "prod-eu-2-",
        scheduleName: `prod-eu-1-${kind === "data" ? "daily" : "credentials"}`,
        scheduleKey: kind === "data" ? "sourceScheduleName" : "sourceCredentialsScheduleName",
        restoresClaims: kind === "data",
        namespaces: [],
        storageClassMappings: {},
    });
    const failure = (kind: "data" | "credentials") =>
        tasks.preRestore(api, args(kind)).then(
            () => assert.fail("the checks passed"),
            (e: unknown) => String(e),
        );

    it("the data checks stop while an earlier data restore's claims are in flight", async () => {
        assert.match(await failure("data"), /still being restored: shop\/data/);
    });

    it("the credentials checks neither wait for them nor remove them: their restore holds no claims", async () => {
        assert.doesNotMatch(await failure("credentials"), /still being restored/);
    });
});
