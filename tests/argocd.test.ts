import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";

import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import Ajv, { ValidateFunction } from "ajv";
import { parse as parseYaml } from "yaml";

import {
    ALL_BUT_SEED_CLUSTER,
    ApplicationManifest,
    ArgoCd,
    ArgoCdArgs,
    argoCdArgsProblems,
    argoCdValues,
    CASCADE_FINALIZER,
    chartDefaultExclusions,
    FilteredResource,
    IN_CLUSTER_SERVER,
    LiveApplication,
    repositorySecret,
    resourceExclusionList,
    resourceExclusions,
    resourceInclusionList,
    resourceInclusions,
    rootApplication,
    RootApplicationInput,
    SEED_CLUSTER_SERVER,
    seedApplication,
    seedClusterSecret,
    seedProject,
    SYNC_GATE_ANNOTATION,
} from "../components/argocd";
import { ARGO_CD_CHART, ARGO_CD_IMAGE } from "../components/versions";
import { ReadResource, RegisteredResource, record } from "../engine";

/**
 * Upstream reference data (argo-cd chart 10.1.1 values and Chart.yaml, Argo CD CRDs), kept next to the
 * checkout in ../shared/reference. Read only, never copied into the repository.
 */
const REFERENCE = path.resolve(__dirname, "..", "..", "shared", "reference");
const readReference = (...parts: string[]) => {
    const file = path.join(REFERENCE, ...parts);
    if (!fs.existsSync(file)) {
        throw new Error(
            `reference file ${file} is missing: these tests read the upstream chart and CRDs from ../shared/reference`,
        );
    }
    return parseYaml(fs.readFileSync(file, "utf8")) as unknown;
};
type Json = Record<string, unknown>;
const chartValues = readReference("argo-cd-chart-10.1.1", "values.yaml") as Json;
const chartYaml = readReference("argo-cd-chart-10.1.1", "Chart.yaml") as Json;

// ---------------------------------------------------------------------------------------------------------
// A port of Argo CD's resource filter (argo-cd v3.4.4 util/settings/resources_filter.go and
// filtered_resource.go), to show what the generated settings do. Globs are gobwas/glob without separators:
// `*` any run, `?` one character, case-sensitive; the patterns this program writes use nothing else.
// ---------------------------------------------------------------------------------------------------------
function globMatch(pattern: string, text: string): boolean {
    assert.match(pattern, /^[^[\]{}\\]*$/, `pattern ${pattern} uses glob syntax this port does not implement`);
    const regex = pattern
        .replace(/[.+^$()|]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${regex}$`, "s").test(text);
}
const matchList = (list: readonly string[] | undefined, value: string, glob: boolean) =>
    list === undefined ||
    list.length === 0 ||
    list.some((p) => (glob ? globMatch(p, value) : p === "*" || p === value));
const matches = (r: FilteredResource, group: string, kind: string, cluster: string) =>
    matchList(r.apiGroups, group, true) && matchList(r.kinds, kind, false) && matchList(r.clusters, cluster, true);
const CORE_EXCLUSIONS: FilteredResource[] = [
    { apiGroups: ["events.k8s.io", "metrics.k8s.io"] },
    { apiGroups: [""], kinds: ["Event"] },
    { apiGroups: ["coordination.k8s.io"], kinds: ["Lease"] },
];
/** `ResourcesFilter.IsExcludedResource`: excluded wins; included allows; an inclusion rule for the cluster denies the rest. */
function isExcluded(
    settings: { exclusions: FilteredResource[]; inclusions: FilteredResource[] },
    group: string,
    kind: string,
    cluster: string,
): boolean {
    if ([...CORE_EXCLUSIONS, ...settings.exclusions].some((r) => matches(r, group, kind, cluster))) {
        return true;
    }
    if (settings.inclusions.some((r) => matches(r, group, kind, cluster))) {
        return false;
    }
    return settings.inclusions.some((r) => matchList(r.clusters, cluster, true));
}
/** Reads the settings back from the chart values, as Argo CD reads argocd-cm (YAML lists of filters). */
function settingsOf(values: Json): { exclusions: FilteredResource[]; inclusions: FilteredResource[] } {
    const cm = (values.configs as Json).cm as Record<string, string>;
    const inclusions = cm["resource.inclusions"];
    return {
        exclusions: parseYaml(cm["resource.exclusions"]) as FilteredResource[],
        inclusions: inclusions === undefined ? [] : (parseYaml(inclusions) as FilteredResource[]),
    };
}

// ---------------------------------------------------------------------------------------------------------
// CRD validation: the CRD's openAPIV3Schema with ajv, every object closed to unknown fields (the API server
// prunes them silently), and @kubernetes-models/argo-cd, which validates against Argo CD's generated schema.
// ---------------------------------------------------------------------------------------------------------
function closeObjects(schema: unknown): unknown {
    if (Array.isArray(schema)) {
        return schema.map(closeObjects);
    }
    if (schema === null || typeof schema !== "object") {
        return schema;
    }
    const copy: Json = {};
    for (const [k, v] of Object.entries(schema)) {
        copy[k] = closeObjects(v);
    }
    if (
        copy.properties !== undefined &&
        copy.additionalProperties === undefined &&
        copy["x-kubernetes-preserve-unknown-fields"] !== true
    ) {
        copy.additionalProperties = false;
    }
    return copy;
}
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
function crdValidator(file: string): ValidateFunction {
    const crd = readReference("argo-cd-crds", file) as {
        spec: { versions: { schema: { openAPIV3Schema: unknown } }[] };
    };
    return ajv.compile(closeObjects(crd.spec.versions[0].schema.openAPIV3Schema) as object);
}
const validators = { Application: crdValidator("application.yaml"), AppProject: crdValidator("appproject.yaml") };

interface ModelClass {
    new (data: unknown): { validate(): void };
}
// The package is ESM-only with an import-only exports map; Node 20.19+ can require an ES module by its path.
const MODELS = path.resolve(
    __dirname,
    "..",
    "node_modules",
    "@kubernetes-models",
    "argo-cd",
    "argoproj.io",
    "v1alpha1",
);
/* eslint-disable @typescript-eslint/no-require-imports -- the models' ESM entry is not typed for CommonJS */
const models = {
    Application: (require(path.join(MODELS, "Application.js")) as { Application: ModelClass }).Application,
    AppProject: (require(path.join(MODELS, "AppProject.js")) as { AppProject: ModelClass }).AppProject,
};
/* eslint-enable @typescript-eslint/no-require-imports */

/** Asserts an Application or AppProject is valid for its CRD by both validators. */
function assertValidForCrd(object: unknown, label: string): void {
    const kind = (object as { kind: "Application" | "AppProject" }).kind;
    const validate = validators[kind];
    assert.ok(validate(object), `${label} does not match the ${kind} CRD: ${ajv.errorsText(validate.errors)}`);
    assert.doesNotThrow(
        () => new models[kind](object).validate(),
        `${label} fails @kubernetes-models/argo-cd validation`,
    );
}

// ---------------------------------------------------------------------------------------------------------
// Fixtures: Applications as Argo CD would hold them in the cluster.
// ---------------------------------------------------------------------------------------------------------
const GITOPS_REPO = "https://github.com/acme/gitops.git";
const LIVE_APPS: Record<string, Json> = {
    // A Helm repository chart with inline values and no release name: Argo CD uses the app name.
    shop: {
        spec: {
            project: "default",
            source: {
                repoURL: "https://charts.example.com/stable",
                chart: "postgresql",
                targetRevision: "16.0.0",
                helm: { valuesObject: { auth: { database: "shop" } } },
            },
            destination: { server: IN_CLUSTER_SERVER, namespace: "shop" },
            syncPolicy: { automated: { enabled: true, prune: true, selfHeal: true } },
        },
        status: { sourceType: "Helm", sync: { status: "OutOfSync" } },
    },
    // A Kustomize directory in the GitOps repository.
    wiki: {
        spec: {
            project: "apps",
            source: { repoURL: GITOPS_REPO, path: "apps/wiki", targetRevision: "main" },
            destination: { name: "in-cluster", namespace: "wiki" },
        },
        status: { sourceType: "Kustomize" },
    },
    // Multi-source: a chart with value files from the GitOps repository, and an explicit release name.
    blog: {
        spec: {
            project: "default",
            sources: [
                {
                    repoURL: "https://charts.example.com/stable",
                    chart: "wordpress",
                    targetRevision: "24.0.0",
                    helm: { releaseName: "blog-prod", valueFiles: ["$values/blog/values.yaml"] },
                },
                { repoURL: GITOPS_REPO, targetRevision: "main", ref: "values" },
            ],
            destination: { server: IN_CLUSTER_SERVER, namespace: "blog" },
        },
        status: { sourceTypes: ["Helm", ""] },
    },
};
const live = (name: string): LiveApplication => ({ name, spec: LIVE_APPS[name].spec, status: LIVE_APPS[name].status });

const ROOT_INPUT: RootApplicationInput = {
    name: "root",
    argoCdNamespace: "argocd",
    project: "default",
    repoUrl: GITOPS_REPO,
    path: "apps",
    revision: "main",
    syncGate: "restore-20260101",
};

describe("Argo CD resource exclusions", () => {
    const chartCm = (chartValues.configs as Json).cm as Json;
    const chartDefaults = parseYaml(chartCm["resource.exclusions"] as string) as FilteredResource[];

    it("chartDefaultExclusions is the chart 10.1.1 default list, entry for entry", () => {
        assert.ok(chartDefaults.length >= 5);
        assert.deepEqual(chartDefaultExclusions(), chartDefaults);
    });

    for (const seeding of [false, true]) {
        it(`${seeding ? "seeding" : "normal"}: keeps every chart default exactly, then adds PVs, PVCs, Secrets and Velero's kinds`, () => {
            const parsed = parseYaml(resourceExclusions(seeding)) as FilteredResource[];
            assert.deepEqual(parsed, resourceExclusionList(seeding));
            assert.deepEqual(parsed.slice(0, chartDefaults.length), chartDefaults);
            for (const entry of chartDefaults) {
                assert.ok(
                    parsed.some((p) => JSON.stringify(p) === JSON.stringify(entry)),
                    `default entry ${JSON.stringify(entry)} is kept`,
                );
            }
            const added = parsed.slice(chartDefaults.length);
            assert.deepEqual(
                added.map((e) => [e.apiGroups, e.kinds]),
                [
                    [[""], ["PersistentVolume", "PersistentVolumeClaim", "Secret"]],
                    [["velero.io"], ["*"]],
                ],
            );
            assert.deepEqual(added[0].clusters, seeding ? ALL_BUT_SEED_CLUSTER : undefined);
            assert.equal(added[1].clusters, undefined, "Velero's kinds are excluded everywhere");
        });
    }

    const inCluster = [IN_CLUSTER_SERVER, "https://172.20.0.1:443", "https://[fd00:ec2::1]:443"];
    const remote = "https://A1B2C3D4E5F6.gr7.eu-west-1.eks.amazonaws.com";

    it("normal: Argo CD never applies, watches or prunes PVs, PVCs, Secrets or Velero objects, on any cluster", () => {
        const settings = settingsOf(argoCdValues({ seeding: false }));
        assert.deepEqual(settings.inclusions, []);
        for (const cluster of [...inCluster, remote, SEED_CLUSTER_SERVER]) {
            for (const kind of ["PersistentVolume", "PersistentVolumeClaim", "Secret"]) {
                assert.equal(isExcluded(settings, "", kind, cluster), true, `${kind} on ${cluster}`);
            }
            for (const kind of ["Backup", "Schedule", "Restore", "DataUpload"]) {
                assert.equal(isExcluded(settings, "velero.io", kind, cluster), true, `${kind} on ${cluster}`);
            }
            assert.equal(isExcluded(settings, "apps", "Deployment", cluster), false);
            assert.equal(isExcluded(settings, "", "ConfigMap", cluster), false);
        }
    });

    it("seeding: the in-cluster destination, under both names Argo CD checks, and remote clusters keep every exclusion", () => {
        const settings = settingsOf(argoCdValues({ seeding: true }));
        // state.go checks the destination's server; the cluster cache (ctl.go) checks the REST host, which for
        // in-cluster is https://<KUBERNETES_SERVICE_HOST>:<port>.
        for (const cluster of [...inCluster, remote]) {
            for (const kind of ["PersistentVolume", "PersistentVolumeClaim", "Secret"]) {
                assert.equal(isExcluded(settings, "", kind, cluster), true, `${kind} on ${cluster}`);
            }
            assert.equal(isExcluded(settings, "velero.io", "Backup", cluster), true);
            assert.equal(isExcluded(settings, "apps", "Deployment", cluster), false, `Deployment on ${cluster}`);
        }
    });

    it("seeding: the seed cluster applies claims and Secrets and nothing else", () => {
        const settings = settingsOf(argoCdValues({ seeding: true }));
        assert.deepEqual(settings.inclusions, resourceInclusionList(true));
        assert.equal(isExcluded(settings, "", "PersistentVolumeClaim", SEED_CLUSTER_SERVER), false);
        assert.equal(isExcluded(settings, "", "Secret", SEED_CLUSTER_SERVER), false);
        for (const [group, kind] of [
            ["", "PersistentVolume"],
            ["apps", "Deployment"],
            ["", "ConfigMap"],
            ["", "Namespace"],
            ["batch", "Job"],
            ["velero.io", "Backup"],
        ]) {
            assert.equal(
                isExcluded(settings, group, kind, SEED_CLUSTER_SERVER),
                true,
                `${group}/${kind} on the seed cluster`,
            );
        }
    });

    it("the seed URL reaches the in-cluster API server: URL parsers lowercase the scheme, Argo CD's globs do not", () => {
        const seed = new URL(SEED_CLUSTER_SERVER);
        const inClusterUrl = new URL(IN_CLUSTER_SERVER);
        assert.equal(seed.protocol, "https:");
        assert.equal(seed.host, inClusterUrl.host);
        assert.notEqual(SEED_CLUSTER_SERVER, IN_CLUSTER_SERVER);
        assert.ok(ALL_BUT_SEED_CLUSTER.every((glob) => !globMatch(glob, SEED_CLUSTER_SERVER)));
        assert.ok(ALL_BUT_SEED_CLUSTER.some((glob) => globMatch(glob, IN_CLUSTER_SERVER)));
    });

    it("inclusions exist only while seeding", () => {
        assert.equal(resourceInclusions(false), undefined);
        assert.deepEqual(parseYaml(resourceInclusions(true)!), [
            { apiGroups: [""], kinds: ["PersistentVolumeClaim", "Secret"], clusters: [SEED_CLUSTER_SERVER] },
        ]);
    });
});

describe("Argo CD chart values", () => {
    /**
     * argocd-cm keys Argo CD reads (argo-cd v3.4.4 util/settings/settings.go: resourceExclusionsKey,
     * resourceInclusionsKey, settingsResourceTrackingMethodKey). The chart passes any `configs.cm` key to
     * argocd-cm as it is ("Any values you put under `.configs.cm` are passed to argocd-cm ConfigMap").
     */
    const ARGOCD_CM_KEYS = new Set([
        "resource.exclusions",
        "resource.inclusions",
        "application.resourceTrackingMethod",
    ]);

    /** Leaf paths of a values object, as key lists (keys may contain dots). */
    function leafPaths(value: unknown, at: string[] = []): string[][] {
        if (value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
            return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...at, k]));
        }
        return [at];
    }
    const lookup = (root: unknown, keys: readonly string[]): { found: boolean; value: unknown } => {
        let node: unknown = root;
        for (const key of keys) {
            if (node === null || typeof node !== "object" || !(key in node)) {
                return { found: false, value: undefined };
            }
            node = (node as Json)[key];
        }
        return { found: true, value: node };
    };

    for (const seeding of [false, true]) {
        it(`${seeding ? "seeding" : "normal"}: every key is one the chart 10.1.1 declares, with the chart's type`, () => {
            const values = argoCdValues({ seeding });
            const paths = leafPaths(values);
            assert.ok(paths.length >= 6);
            for (const keys of paths) {
                const isCmKey = keys.length === 3 && keys[0] === "configs" && keys[1] === "cm";
                const inChart = lookup(chartValues, keys);
                if (isCmKey && !inChart.found) {
                    assert.ok(
                        ARGOCD_CM_KEYS.has(keys[2]),
                        `configs.cm."${keys[2]}" is not an argocd-cm key Argo CD reads`,
                    );
                    continue;
                }
                assert.ok(inChart.found, `${keys.join(" > ")} is not in the chart's values.yaml`);
                assert.equal(typeof lookup(values, keys).value, typeof inChart.value, `${keys.join(" > ")} type`);
            }
            assert.equal(lookup(values, ["configs", "cm", "resource.inclusions"]).found, seeding);
        });
    }

    it("pins the chart version and its own Argo CD image", () => {
        const values = argoCdValues({ seeding: false }) as { global: { image: Json }; crds: Json };
        assert.equal(chartYaml.version, ARGO_CD_CHART.version);
        assert.equal(chartYaml.appVersion, ARGO_CD_IMAGE.tag);
        assert.deepEqual(values.global.image, {
            repository: lookup(chartValues, ["global", "image", "repository"]).value,
            tag: "v3.4.4",
        });
        assert.deepEqual(values.crds, { install: true, keep: true });
        assert.equal(lookup(values, ["configs", "cm", "application.resourceTrackingMethod"]).value, "annotation");
    });
});

describe("Argo CD root Application", () => {
    it("is valid for the Application CRD (ajv on the CRD schema and @kubernetes-models/argo-cd)", () => {
        assertValidForCrd(rootApplication(ROOT_INPUT), "root app");
        assertValidForCrd(rootApplication({ ...ROOT_INPUT, syncGate: undefined }), "ungated root app");
    });

    it("the CRD validators catch an unknown or mistyped field", () => {
        const root = rootApplication(ROOT_INPUT);
        const misspelled = {
            ...root,
            spec: { ...root.spec, syncPolicy: { automated: { enabled: true, selfheal: true } } },
        };
        assert.equal(validators.Application(misspelled), false);
        const mistyped = { ...root, spec: { ...root.spec, project: 7 } };
        assert.equal(validators.Application(mistyped), false);
        assert.throws(() => new models.Application(mistyped).validate());
    });

    it("syncs git automatically with self-heal, never prunes on its own and never cascades a delete", () => {
        const root = rootApplication(ROOT_INPUT);
        assert.deepEqual(root.metadata, {
            name: "root",
            namespace: "argocd",
            annotations: { [SYNC_GATE_ANNOTATION]: "restore-20260101" },
        });
        assert.ok(!JSON.stringify(root).includes(CASCADE_FINALIZER));
        assert.equal((root.metadata as Json).finalizers, undefined);
        assert.deepEqual(root.spec.source, { repoURL: GITOPS_REPO, path: "apps", targetRevision: "main" });
        assert.deepEqual(root.spec.destination, { server: "https://kubernetes.default.svc", namespace: "argocd" });
        assert.deepEqual(root.spec.syncPolicy?.automated, {
            enabled: true,
            prune: false,
            selfHeal: true,
            allowEmpty: false,
        });
        assert.ok(root.spec.syncPolicy?.syncOptions?.includes("Delete=false"));
        assert.equal(rootApplication({ ...ROOT_INPUT, syncGate: undefined }).metadata.annotations, undefined);
    });
});

describe("Argo CD repository credentials", () => {
    it("HTTPS: a repository Secret Argo CD reads, with username and password", () => {
        assert.deepEqual(
            repositorySecret({
                name: "root-repository",
                namespace: "argocd",
                url: GITOPS_REPO,
                credentials: { username: "git", password: "tok" },
            }),
            {
                metadata: {
                    name: "root-repository",
                    namespace: "argocd",
                    // The managed label keeps it out of the credentials backup: this program makes it again.
                    labels: { "argocd.argoproj.io/secret-type": "repository", "gitops-dr.io/managed": "true" },
                },
                type: "Opaque",
                stringData: { type: "git", url: GITOPS_REPO, username: "git", password: "tok" },
            },
        );
    });

    it("SSH: the private key only", () => {
        const secret = repositorySecret({
            name: "r",
            namespace: "argocd",
            url: "git@github.com:acme/gitops.git",
            credentials: { sshPrivateKey: "KEY" },
        });
        assert.deepEqual(secret.stringData, {
            type: "git",
            url: "git@github.com:acme/gitops.git",
            sshPrivateKey: "KEY",
        });
    });
});

describe("Argo CD first-install seed Applications", () => {
    it("a Helm chart app: same sources and values, the app's name as Helm release name, into the seed cluster", () => {
        const seed = seedApplication({ app: live("shop"), argoCdNamespace: "argocd" });
        assertValidForCrd(seed, "seed of shop");
        assert.equal(seed.metadata.name, "gitops-dr-seed-shop");
        assert.deepEqual(seed.spec.source, {
            repoURL: "https://charts.example.com/stable",
            chart: "postgresql",
            targetRevision: "16.0.0",
            helm: { valuesObject: { auth: { database: "shop" } }, releaseName: "shop" },
        });
        assert.deepEqual(seed.spec.destination, { server: SEED_CLUSTER_SERVER, namespace: "shop" });
        assert.equal(seed.spec.project, "gitops-dr-seed");
        // the live object is not modified
        assert.equal(((LIVE_APPS.shop.spec as Json).source as { helm: Json }).helm.releaseName, undefined);
    });

    it("creates once: no self-heal, no prune, ignored Secret data and claim specs respected on sync, nothing deleted", () => {
        const seed = seedApplication({ app: live("shop"), argoCdNamespace: "argocd" });
        assert.deepEqual(seed.spec.syncPolicy?.automated, {
            enabled: true,
            prune: false,
            selfHeal: false,
            allowEmpty: false,
        });
        for (const option of ["RespectIgnoreDifferences=true", "Prune=false", "Delete=false"]) {
            assert.ok(seed.spec.syncPolicy?.syncOptions?.includes(option), option);
        }
        assert.deepEqual(seed.spec.ignoreDifferences, [
            { group: "", kind: "Secret", jsonPointers: ["/data", "/stringData"] },
            { group: "", kind: "PersistentVolumeClaim", jsonPointers: ["/spec"] },
        ]);
        assert.ok(!JSON.stringify(seed).includes(CASCADE_FINALIZER));
    });

    it("a Kustomize app keeps its source as it is", () => {
        const seed = seedApplication({ app: live("wiki"), argoCdNamespace: "argocd" });
        assertValidForCrd(seed, "seed of wiki");
        assert.deepEqual(seed.spec.source, { repoURL: GITOPS_REPO, path: "apps/wiki", targetRevision: "main" });
    });

    it("a multi-source app keeps an explicit release name and its ref source", () => {
        const seed = seedApplication({ app: live("blog"), argoCdNamespace: "argocd" });
        assertValidForCrd(seed, "seed of blog");
        assert.deepEqual(
            seed.spec.sources?.map((s) => (s.helm as Json | undefined)?.releaseName),
            ["blog-prod", undefined],
        );
        assert.deepEqual(seed.spec.sources?.[1], { repoURL: GITOPS_REPO, targetRevision: "main", ref: "values" });
    });

    it("refuses what it cannot seed, saying why", () => {
        const spec = LIVE_APPS.wiki.spec as Json;
        const cases: [LiveApplication, RegExp][] = [
            [
                { name: "x", spec: { ...spec, destination: { server: "https://other.example.com", namespace: "x" } } },
                /deploys to https:\/\/other\.example\.com, not to the in-cluster destination/,
            ],
            [
                { name: "x", spec: { ...spec, destination: { server: IN_CLUSTER_SERVER } } },
                /has no spec\.destination\.namespace/,
            ],
            [
                {
                    name: "x",
                    spec: {
                        project: "p",
                        destination: { server: IN_CLUSTER_SERVER, namespace: "x" },
                        sourceHydrator: {},
                    },
                },
                /neither spec\.source nor spec\.sources/,
            ],
            [{ name: "x", spec, status: {} }, /has not recorded its source type yet/],
            [{ name: "x", spec: undefined }, /has no spec/],
        ];
        for (const [app, message] of cases) {
            assert.throws(() => seedApplication({ app, argoCdNamespace: "argocd" }), message);
        }
    });

    it("the seed AppProject allows the seed cluster in the apps' namespaces, their repositories, claims and Secrets only", () => {
        const seeds = ["shop", "wiki", "blog"].map((n) => seedApplication({ app: live(n), argoCdNamespace: "argocd" }));
        const project = seedProject({ argoCdNamespace: "argocd", seeds });
        assertValidForCrd(project, "seed project");
        assert.deepEqual(
            project.spec.destinations,
            ["shop", "wiki", "blog"].map((namespace) => ({ server: SEED_CLUSTER_SERVER, namespace })),
        );
        assert.deepEqual(project.spec.sourceRepos, ["https://charts.example.com/stable", GITOPS_REPO]);
        assert.deepEqual(project.spec.clusterResourceWhitelist, []);
        assert.deepEqual(project.spec.namespaceResourceWhitelist, [
            { group: "", kind: "PersistentVolumeClaim" },
            { group: "", kind: "Secret" },
        ]);
    });

    it("the seed cluster Secret registers the seed URL with a bearer token, the CA and the apps' namespaces", () => {
        const secret = seedClusterSecret({
            namespace: "argocd",
            token: "tok",
            caData: "Q0E=",
            namespaces: ["shop", "wiki"],
        });
        // The seed label lets ApplicationSet cluster generators leave the seed cluster out (docs/argocd.md, "Trade-offs").
        assert.deepEqual(secret.metadata.labels, {
            "argocd.argoproj.io/secret-type": "cluster",
            "gitops-dr.io/managed": "true",
            "gitops-dr.io/seed": "true",
        });
        assert.equal(secret.stringData.server, SEED_CLUSTER_SERVER);
        assert.equal(secret.stringData.namespaces, "shop,wiki");
        assert.deepEqual(JSON.parse(secret.stringData.config), {
            bearerToken: "tok",
            tlsClientConfig: { insecure: false, caData: "Q0E=" },
        });
    });
});

describe("Argo CD arguments", () => {
    const valid: Omit<ArgoCdArgs, "provider"> = { mode: "protect", repoUrl: GITOPS_REPO, path: "apps" };

    it("accepts the minimal protect arguments and the recover ones with a gate", () => {
        assert.deepEqual(argoCdArgsProblems(valid), []);
        assert.deepEqual(argoCdArgsProblems({ ...valid, mode: "recover", syncGate: "restore" }), []);
        assert.deepEqual(argoCdArgsProblems({ ...valid, firstInstallApps: ["shop", "wiki"] }), []);
    });

    it("refuses the first-install switch in recover and drill", () => {
        for (const mode of ["recover", "drill"] as const) {
            assert.deepEqual(argoCdArgsProblems({ ...valid, mode, syncGate: "g", firstInstallApps: ["shop"] }), [
                `firstInstallApps (shop) is refused in ${mode} mode: claims and Secrets come from the backup, and creating them from git would give the apps new, empty volumes and new passwords. Remove firstInstallApps.`,
            ]);
        }
    });

    it("requires the sync gate in recover and drill", () => {
        for (const mode of ["recover", "drill"] as const) {
            assert.deepEqual(argoCdArgsProblems({ ...valid, mode }), [
                `syncGate is required in ${mode} mode: the root Application must not sync before the restore has completed. Pass the restore's completion as syncGate.`,
            ]);
        }
    });

    it("one message per rule", () => {
        const cases: [Partial<ArgoCdArgs>, string][] = [
            [
                { repoUrl: " " },
                "repoUrl is empty: set the git repository of the root Application, e.g. https://github.com/acme/gitops.git.",
            ],
            [
                { path: "/apps" },
                'path "/apps" must be a directory relative to the repository root, e.g. "apps", or "." for the root itself.',
            ],
            [{ revision: "" }, "revision is empty: set a branch, tag or commit, or leave it unset to follow HEAD."],
            [
                { namespace: "Argo" },
                `namespace "Argo" is not a valid namespace name: use lowercase letters, digits and '-', at most 63 characters.`,
            ],
            [
                { releaseName: "a".repeat(54) },
                `releaseName "${"a".repeat(54)}" is not a valid Helm release name: use lowercase letters, digits and '-', at most 53 characters.`,
            ],
            [
                { rootAppName: "Root" },
                `rootAppName "Root" is not a valid Kubernetes name: use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit.`,
            ],
            [{ project: "_p" }, 'project "_p" is not a valid AppProject name.'],
            [
                { repoCredentials: { sshPrivateKey: "k" } },
                `repoCredentials has an SSH key but repoUrl "${GITOPS_REPO}" is not an SSH URL: use git@host:org/repo.git, or a username and password for HTTPS.`,
            ],
            [
                { repoUrl: "git@github.com:acme/gitops.git", repoCredentials: { username: "u", password: "p" } },
                'repoCredentials has a username and password but repoUrl "git@github.com:acme/gitops.git" is an SSH URL: use an https:// URL, or an SSH key.',
            ],
            [{ firstInstallApps: ["Shop"] }, 'firstInstallApps entry "Shop" is not a valid Application name.'],
            [
                { firstInstallApps: ["shop", "shop"] },
                'firstInstallApps names "shop" twice: list each Application once.',
            ],
            [
                { firstInstallApps: ["root"] },
                'firstInstallApps names the root Application "root": name the new apps it creates instead.',
            ],
        ];
        for (const [change, message] of cases) {
            assert.deepEqual(argoCdArgsProblems({ ...valid, ...change }), [message]);
        }
    });
});

// ---------------------------------------------------------------------------------------------------------
// The component under Pulumi's mock runtime, recorded by the offline engine's recorder (engine/recorder.ts).
// ---------------------------------------------------------------------------------------------------------
/** A registration, or a read (`read: true`, with the id read). */
type Recorded =
    (RegisteredResource & { readonly read: false }) | (ReadResource & { readonly read: true; readonly inputs: Json });

const SEED_TOKEN = "seed-token-value";
const SEED_CA = Buffer.from("-----BEGIN CERTIFICATE-----").toString("base64");

/** What a cluster would answer: live Applications for reads, a populated token Secret, auto-named objects. */
function mockState(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const inputs = args.inputs as Json;
    if (args.id !== undefined && args.id !== "" && args.type === "kubernetes:argoproj.io/v1alpha1:Application") {
        const app = LIVE_APPS[args.id.split("/")[1]];
        if (app === undefined) {
            throw new Error(`applications.argoproj.io "${args.id}" not found`);
        }
        return {
            id: args.id,
            state: {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "Application",
                metadata: { name: args.id.split("/")[1] },
                ...app,
            },
        };
    }
    const metadata = (inputs.metadata ?? {}) as Json;
    const named = { ...inputs, metadata: { ...metadata, name: metadata.name ?? `${args.name}-auto` } };
    if (args.type === "kubernetes:core/v1:Secret" && inputs.type === "kubernetes.io/service-account-token") {
        return {
            id: `${args.name}-id`,
            state: { ...named, data: { token: Buffer.from(SEED_TOKEN).toString("base64"), "ca.crt": SEED_CA } },
        };
    }
    return { id: `${args.name}-id`, state: named };
}

interface Construction {
    readonly resources: Recorded[];
    readonly outputs: Json;
    readonly warnings: string[];
    one(type: string, name?: string): RegisteredResource & { readonly read: false };
    all(type: string): (RegisteredResource & { readonly read: false })[];
}

/** Constructs an ArgoCd (and a stand-in Restore as its gate) under mocks and records everything. */
async function construct(args: Omit<ArgoCdArgs, "provider" | "syncGate">, gated = true): Promise<Construction> {
    const recording = await record(
        {
            project: "gitops-dr",
            stack: "argocd-test",
            preview: false,
            mocks: { newResource: mockState, call: (a) => a.inputs as Json },
        },
        () =>
            pulumi.runtime.runInPulumiStack(() => {
                const provider = new k8s.Provider("k8s", {});
                const restore = new k8s.apiextensions.CustomResource("restore", {
                    apiVersion: "velero.io/v1",
                    kind: "Restore",
                    metadata: { name: "restore-20260101", namespace: "velero" },
                    spec: { scheduleName: "velero-daily" },
                });
                const argocd = new ArgoCd("dr-argocd", {
                    ...args,
                    provider,
                    syncGate: gated ? restore.metadata.name : undefined,
                });
                return Promise.resolve({
                    releaseName: argocd.releaseName,
                    namespace: argocd.namespace,
                    rootAppName: argocd.rootAppName,
                    firstInstallApps: argocd.firstInstallApps,
                    seedApplicationNames: argocd.seedApplicationNames,
                });
            }),
    );
    const resources: Recorded[] = [
        ...recording.resources.map((r) => ({ ...r, read: false as const })),
        ...recording.reads.map((r) => ({ ...r, read: true as const, inputs: {} })),
    ];
    const all = (type: string) =>
        recording.resources.filter((r) => r.type === type).map((r) => ({ ...r, read: false as const }));
    return {
        resources,
        outputs: recording.result ?? {},
        warnings: [...recording.warnings],
        all,
        one(type: string, name?: string) {
            const found = all(type).filter((r) => name === undefined || r.name === name);
            assert.equal(
                found.length,
                1,
                `exactly one ${type} ${name ?? ""}: ${all(type)
                    .map((r) => r.name)
                    .join(", ")}`,
            );
            return found[0];
        },
    };
}

const APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application";
const RELEASE = "kubernetes:helm.sh/v3:Release";
const SECRET = "kubernetes:core/v1:Secret";
/** A registered CustomResource's inputs as the object the API server would get. */
const objectOf = (r: { readonly inputs: Json }) => ({
    apiVersion: r.inputs.apiVersion,
    kind: r.inputs.kind,
    metadata: r.inputs.metadata,
    spec: r.inputs.spec,
});

describe("ArgoCd component", () => {
    const base = { repoUrl: GITOPS_REPO, path: "apps", revision: "main" } as const;
    let protect: Construction;
    let seeding: Construction;
    before(async () => {
        protect = await construct({
            ...base,
            mode: "protect",
            repoCredentials: { username: "git", password: "s3cret-token" },
        });
        seeding = await construct({ ...base, mode: "protect", firstInstallApps: ["shop", "wiki"] });
    });

    it("every child is parented by the component, named from it, and uses the given provider", () => {
        for (const run of [protect, seeding]) {
            const component = run.one("gitops-dr:argocd:ArgoCd");
            const provider = run.one("pulumi:providers:kubernetes");
            const children = run.resources.filter((r) => r.parent === component.urn);
            assert.ok(children.length >= 4);
            for (const r of children) {
                assert.ok(r.name.startsWith("dr-argocd-"), r.name);
                assert.equal(r.provider, provider.urn, `${r.name} provider`);
            }
            const k8sObjects = run.resources.filter((r) => r.type.startsWith("kubernetes:") && r.name !== "restore");
            assert.ok(
                k8sObjects.every((r) => r.parent === component.urn),
                "no Kubernetes object outside the component",
            );
        }
    });

    it("installs the pinned chart with an explicit release name, waiting, with the chart's CRDs", () => {
        const release = protect.one(RELEASE);
        assert.equal(release.inputs.name, "argocd");
        assert.equal(release.inputs.namespace, "argocd");
        assert.equal(release.inputs.chart, "argo-cd");
        assert.equal(release.inputs.version, "10.1.1");
        assert.deepEqual(release.inputs.repositoryOpts, { repo: "https://argoproj.github.io/argo-helm" });
        assert.equal(release.inputs.skipAwait, false);
        assert.equal(release.inputs.waitForJobs, true);
        assert.equal(release.inputs.atomic, false);
        assert.deepEqual(release.inputs.values, argoCdValues({ seeding: false }));
        assert.ok(release.dependencies.includes(protect.one("kubernetes:core/v1:Namespace").urn));
    });

    it("the root Application waits for the release and, through an input, for the gate", () => {
        const root = protect.one(APPLICATION);
        const restore = protect.resources.find((r) => r.name === "restore")!;
        assert.ok(root.dependencies.includes(protect.one(RELEASE).urn));
        assert.ok(root.propertyDependencies.metadata.includes(restore.urn), "metadata depends on the gate's resource");
        assert.equal(
            (root.inputs.metadata as { annotations: Json }).annotations[SYNC_GATE_ANNOTATION],
            "restore-20260101",
        );
    });

    it("the root Application is valid for its CRD and has no cascading-delete finalizer", () => {
        const root = protect.one(APPLICATION);
        assertValidForCrd(objectOf(root), "registered root app");
        assert.deepEqual(objectOf(root), { ...rootApplication(ROOT_INPUT) });
        for (const app of [...protect.all(APPLICATION), ...seeding.all(APPLICATION)]) {
            assert.ok(!JSON.stringify(app.inputs).includes(CASCADE_FINALIZER), app.name);
        }
    });

    it("without a gate (protect), the root app carries no gate annotation", async () => {
        const run = await construct({ ...base, mode: "protect" }, false);
        assert.equal((run.one(APPLICATION).inputs.metadata as Json).annotations, undefined);
        assert.deepEqual(run.one(APPLICATION).propertyDependencies.metadata ?? [], []);
    });

    it("private repository credentials become a secret repository Secret the root app waits for", () => {
        const secret = protect.one(SECRET, "dr-argocd-repository");
        assert.deepEqual(secret.inputs.stringData, {
            type: "git",
            url: GITOPS_REPO,
            username: "git",
            password: "s3cret-token",
        });
        assert.deepEqual((secret.inputs.metadata as Json).labels, {
            "argocd.argoproj.io/secret-type": "repository",
            "gitops-dr.io/managed": "true",
        });
        assert.ok(
            secret.secretPaths.some((p) => p.startsWith("stringData")),
            secret.secretPaths.join(", "),
        );
        assert.ok(protect.one(APPLICATION).dependencies.includes(secret.urn));
        assert.ok(!JSON.stringify(protect.outputs).includes("s3cret-token"));
    });

    it("outputs: release name, namespace, root app name, an empty first-install list, and no warning", () => {
        assert.deepEqual(protect.outputs, {
            releaseName: "argocd",
            namespace: "argocd",
            rootAppName: "root",
            firstInstallApps: [],
            seedApplicationNames: [],
        });
        assert.deepEqual(protect.warnings, []);
        assert.equal(protect.all("kubernetes:core/v1:ServiceAccount").length, 0);
        assert.equal(protect.resources.filter((r) => r.read).length, 0);
    });

    it("seeding: reports the apps, warns while on, and scopes the filters", () => {
        assert.deepEqual(seeding.outputs.firstInstallApps, ["shop", "wiki"]);
        assert.deepEqual(seeding.outputs.seedApplicationNames, ["gitops-dr-seed-shop", "gitops-dr-seed-wiki"]);
        assert.equal(seeding.warnings.length, 1);
        assert.match(seeding.warnings[0], /First-install seeding is ON for shop, wiki/);
        assert.deepEqual(seeding.one(RELEASE).inputs.values, argoCdValues({ seeding: true }));
    });

    it("seeding: reads the named Applications after the release, and seeds each from its own sources", () => {
        const reads = seeding.resources.filter((r) => r.read);
        assert.deepEqual(reads.map((r) => r.id).sort(), ["argocd/shop", "argocd/wiki"]);
        for (const r of reads) {
            assert.ok(r.dependencies.includes(seeding.one(RELEASE).urn));
        }
        const seeds = seeding
            .all(APPLICATION)
            .filter((r) => r.name.startsWith("dr-argocd-seed-app-"))
            .sort((a, b) => a.name.localeCompare(b.name));
        assert.deepEqual(
            seeds.map((s) => objectOf(s)),
            ["shop", "wiki"].map((n) => seedApplication({ app: live(n), argoCdNamespace: "argocd" })),
        );
        for (const seed of seeds) {
            assertValidForCrd(objectOf(seed), seed.name);
            assert.deepEqual(seed.customTimeouts, { create: "10m", update: "10m", delete: undefined });
        }
    });

    it("seeding: the seed Applications wait for the release, the seed project, the seed cluster and its grants", () => {
        const project = seeding.one("kubernetes:argoproj.io/v1alpha1:AppProject");
        const cluster = seeding.one(SECRET, "dr-argocd-seed-cluster");
        const bindings = seeding.all("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
        assert.equal(bindings.length, 2);
        for (const seed of seeding.all(APPLICATION).filter((r) => r.name.startsWith("dr-argocd-seed-app-"))) {
            for (const dep of [seeding.one(RELEASE), project, cluster, ...bindings]) {
                assert.ok(seed.dependencies.includes(dep.urn), `${seed.name} waits for ${dep.name}`);
            }
        }
        assertValidForCrd(objectOf(project), "registered seed project");
    });

    it("seeding: the seed identity may touch claims and Secrets only, in the named apps' namespaces only", () => {
        const role = seeding.one("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole");
        assert.deepEqual(role.inputs.rules, [
            {
                apiGroups: [""],
                resources: ["persistentvolumeclaims", "secrets"],
                verbs: ["get", "list", "watch", "create", "update", "patch"],
            },
        ]);
        const bindings = seeding.all("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding");
        assert.deepEqual(bindings.map((b) => (b.inputs.metadata as Json).namespace).sort(), ["shop", "wiki"]);
        for (const b of bindings) {
            assert.deepEqual(b.inputs.roleRef, {
                apiGroup: "rbac.authorization.k8s.io",
                kind: "ClusterRole",
                name: "dr-argocd-seed-role-auto",
            });
            assert.deepEqual(b.inputs.subjects, [
                { kind: "ServiceAccount", name: "gitops-dr-seed", namespace: "argocd" },
            ]);
        }
        assert.equal(seeding.all("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding").length, 0);
    });

    it("seeding: the cluster Secret carries the populated token and CA as a secret, for the apps' namespaces", () => {
        const token = seeding.one(SECRET, "dr-argocd-seed-token");
        assert.equal(token.inputs.type, "kubernetes.io/service-account-token");
        assert.deepEqual((token.inputs.metadata as Json).annotations, {
            "kubernetes.io/service-account.name": "gitops-dr-seed",
        });
        const cluster = seeding.one(SECRET, "dr-argocd-seed-cluster");
        const data = cluster.inputs.stringData as Record<string, string>;
        assert.deepEqual(
            { ...data, config: JSON.parse(data.config) as unknown },
            {
                name: "gitops-dr-seed",
                server: SEED_CLUSTER_SERVER,
                namespaces: "shop,wiki",
                config: { bearerToken: SEED_TOKEN, tlsClientConfig: { insecure: false, caData: SEED_CA } },
            },
        );
        assert.ok(cluster.secretPaths.includes("stringData"), cluster.secretPaths.join(", "));
        assert.ok(!cluster.secretPaths.some((p) => p.startsWith("metadata")), "only the data is secret");
        assert.ok(cluster.propertyDependencies.stringData.includes(token.urn));
        assert.ok(!JSON.stringify(seeding.outputs).includes(SEED_TOKEN));
    });

    it("recover: installs with the gate, and refuses the first-install switch before creating anything", async () => {
        const recover = await construct({ ...base, mode: "recover" });
        assert.ok(recover.one(APPLICATION).propertyDependencies.metadata.length > 0);
        await assert.rejects(
            construct({ ...base, mode: "recover", firstInstallApps: ["shop"] }),
            /firstInstallApps \(shop\) is refused in recover mode/,
        );
        await assert.rejects(construct({ ...base, mode: "drill" }, false), /syncGate is required in drill mode/);
    });
});

describe("Argo CD documentation", () => {
    /** Every ArgoCdArgs key (the compiler rejects a missing or unknown one). */
    const ARG_KEYS: Record<keyof ArgoCdArgs, true> = {
        mode: true,
        releaseName: true,
        namespace: true,
        repoUrl: true,
        path: true,
        revision: true,
        rootAppName: true,
        project: true,
        repoCredentials: true,
        syncGate: true,
        firstInstallApps: true,
        chartSource: true,
        imageRegistry: true,
        userValues: true,
        provider: true,
    };
    const doc = fs.readFileSync(path.resolve(__dirname, "..", "docs", "argocd.md"), "utf8");
    const section = doc.slice(doc.indexOf("## Inputs"), doc.indexOf("## Outputs"));
    const rows = new Map(
        [...section.matchAll(/^\| `(\w+)` \|(.*)\|$/gm)].map((m) => [
            m[1],
            m[2].split(/(?<!\\)\|/).map((c) => c.trim()),
        ]),
    );

    it("the inputs table lists every ArgoCdArgs key and no other", () => {
        assert.deepEqual([...rows.keys()].sort(), Object.keys(ARG_KEYS).sort());
    });

    it("the documented defaults are the code's", async () => {
        const defaults = (key: string) => rows.get(key)?.[2];
        assert.equal(defaults("releaseName"), "`argocd`");
        assert.equal(defaults("namespace"), "`argocd`");
        assert.equal(defaults("rootAppName"), "`root`");
        const run = await construct({ mode: "protect", repoUrl: GITOPS_REPO, path: "apps" }, false);
        assert.deepEqual(
            [run.outputs.releaseName, run.outputs.namespace, run.outputs.rootAppName],
            ["argocd", "argocd", "root"],
        );
        const spec = run.one(APPLICATION).inputs.spec as { project: string; source: { targetRevision: string } };
        assert.equal(defaults("revision"), `\`${spec.source.targetRevision}\``);
        assert.equal(defaults("project"), `\`${spec.project}\``);
    });
});

/** Keeps the fixtures honest: every live app fixture is itself a valid Application. */
describe("Argo CD test fixtures", () => {
    it("live Applications are valid for the CRD", () => {
        for (const [name, app] of Object.entries(LIVE_APPS)) {
            const object: ApplicationManifest | Json = {
                apiVersion: "argoproj.io/v1alpha1",
                kind: "Application",
                metadata: { name, namespace: "argocd" },
                ...app,
            };
            assertValidForCrd(object, `fixture ${name}`);
        }
    });
});
