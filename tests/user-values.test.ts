/**
 * Values of your own (`gitops-dr:argoCdValues`, `gitops-dr:veleroValues`): what is refused and why, how the
 * user's values merge over the program's, and that values holding credentials reach Helm as a secret.
 */
import * as assert from "node:assert/strict";

import {
    ARGO_CD_GUARDED,
    ConfigError,
    GuardedPath,
    RawConfig,
    VELERO_GUARDED,
    parseConfig,
} from "../components/config";
import { mergeValues } from "../components/helm-values";
import { runProgram } from "../engine";
import { plain, PROTECT_RAW, secret, STACK_SECRETS } from "./fixtures";

const PROTECT: RawConfig = PROTECT_RAW;

type Key = "argoCdValues" | "veleroValues";

/** The problems reported when `key` holds `values`; [] when the stack parses. */
function problems(key: Key, values: unknown, asSecret = false): { key: string; message: string }[] {
    const json = typeof values === "string" ? values : JSON.stringify(values);
    try {
        parseConfig({ ...PROTECT, [key]: asSecret ? secret(json) : plain(json) }, "prod", {});
        return [];
    } catch (e) {
        assert.ok(e instanceof ConfigError, String(e));
        return e.problems.map((p) => ({ key: p.key, message: p.message }));
    }
}

/** An object holding `leaf` at `path`. */
function at(path: readonly string[], leaf: unknown): Record<string, unknown> {
    return path.reduceRight<unknown>((inner, k) => ({ [k]: inner }), leaf) as Record<string, unknown>;
}

/** `path` as `pulumi config set --path` writes it after the key. */
const shown = (path: readonly string[]) =>
    path.map((p) => (/^[A-Za-z_][\w-]*$/.test(p) ? `.${p}` : `["${p}"]`)).join("");

describe("user values: parsing", () => {
    for (const key of ["argoCdValues", "veleroValues"] as const) {
        it(`${key}: a map of chart values parses and is kept as given`, () => {
            const values = { server: { resources: { limits: { memory: "1Gi" } } }, tolerations: [{ key: "dr" }] };
            const cfg = parseConfig({ ...PROTECT, [key]: plain(JSON.stringify(values)) }, "prod", {});
            const user = key === "argoCdValues" ? cfg.argoCd.userValues : cfg.velero.userValues;
            assert.deepEqual(user, { values, secret: false });
        });

        for (const bad of ["replicas=2", "[1, 2]", '"text"', "3"]) {
            it(`${key}: refuses ${bad}, which is not a map`, () => {
                const found = problems(key, bad);
                assert.equal(found.length, 1);
                assert.equal(found[0].key, `gitops-dr:${key}`);
                assert.match(found[0].message, /is not a map of chart values\. Fix: set it as a YAML map/);
                assert.ok(found[0].message.includes(`pulumi config set --path 'gitops-dr:${key}.server.replicas' 2`));
            });
        }

        it(`${key}: a secret that is not a map is reported without its value`, () => {
            const [p] = problems(key, "hunter2-not-a-map", true);
            assert.ok(p.message.startsWith("(a secret) is not a map"), p.message);
            assert.ok(!p.message.includes("hunter2"), p.message);
        });
    }
});

describe("user values: guarded paths", () => {
    const charts: [Key, readonly GuardedPath[]][] = [
        ["argoCdValues", ARGO_CD_GUARDED],
        ["veleroValues", VELERO_GUARDED],
    ];
    for (const [key, guarded] of charts) {
        for (const guard of guarded) {
            it(`${key}: refuses ${guard.path.join(".")}, naming why and what to set instead`, () => {
                const found = problems(key, at(guard.path, "user value"));
                assert.equal(found.length, 1, found.map((p) => p.message).join("\n"));
                const full = `gitops-dr:${key}${shown(guard.path)}`;
                assert.equal(
                    found[0].message,
                    `sets ${full}, which gitops-dr owns: ${guard.why}. Fix: \`pulumi config rm --path '${full}'\`; set ${guard.instead}.`,
                );
            });

            if (guard.path.length > 1) {
                it(`${key}: refuses ${guard.path.slice(0, -1).join(".")}: null, which would drop ${guard.path.join(".")}`, () => {
                    const parent = guard.path.slice(0, -1);
                    const found = problems(key, at(parent, null));
                    const mine = found.filter((p) =>
                        p.message.includes(`and with it gitops-dr:${key}${shown(guard.path)},`),
                    );
                    assert.equal(mine.length, 1, found.map((p) => p.message).join("\n"));
                    assert.ok(mine[0].message.startsWith(`replaces gitops-dr:${key}${shown(parent)}, and with it`));
                });
            }
        }
    }

    it("leaves the neighbours of a guarded path to the user", () => {
        assert.deepEqual(
            problems("argoCdValues", { configs: { cm: { "admin.enabled": "false", url: "https://cd.acme.io" } } }),
            [],
        );
        assert.deepEqual(
            problems("veleroValues", {
                configuration: { logLevel: "debug" },
                serviceAccount: { server: { annotations: { "acme.io/team": "platform" } } },
                metrics: { serviceMonitor: { additionalLabels: { release: "kube-prometheus" } } },
            }),
            [],
        );
    });

    it("reports every problem at once", () => {
        const found = problems("veleroValues", {
            schedules: {},
            configuration: { uploaderType: "restic" },
            image: { tag: "latest" },
        });
        assert.equal(found.length, 3, found.map((p) => p.message).join("\n"));
    });
});

describe("user values: images are pinned", () => {
    for (const [key, values, path] of [
        ["argoCdValues", { server: { image: { tag: "v9.9.9" } } }, ".server.image.tag"],
        ["argoCdValues", { dex: { image: { repository: "ghcr.io/me/dex" } } }, ".dex.image.repository"],
        ["argoCdValues", { global: { image: { registry: "docker.io" } } }, ".global.image.registry"],
        ["veleroValues", { image: { digest: "sha256:00" } }, ".image.digest"],
        ["veleroValues", { kubectl: { image: "bitnami/kubectl:latest" } }, ".kubectl.image"],
        ["argoCdValues", { dex: { initImage: { tag: "v3" } } }, ".dex.initImage.tag"],
    ] as const) {
        it(`${key}: refuses ${path}, pointing at imageRegistry`, () => {
            const found = problems(key, values);
            assert.equal(found.length, 1, found.map((p) => p.message).join("\n"));
            assert.ok(found[0].message.startsWith(`sets gitops-dr:${key}${path}: every image is pinned`));
            assert.ok(found[0].message.endsWith("set gitops-dr:imageRegistry."));
        });
    }

    it("leaves an image's pull policy and pull secrets to the user", () => {
        assert.deepEqual(problems("argoCdValues", { global: { image: { imagePullPolicy: "Always" } } }), []);
        assert.deepEqual(problems("veleroValues", { image: { pullPolicy: "Always", imagePullSecrets: ["r"] } }), []);
    });
});

describe("user values: containers of your own", () => {
    const sidecar = { repoServer: { extraContainers: [{ name: "cmp", image: "ghcr.io/acme/cmp:v1.2.0" }] } };

    it("may name their image (a config management plugin's sidecar)", () => {
        assert.deepEqual(problems("argoCdValues", sidecar), []);
    });

    it("with a mirror, must take it from the mirror", () => {
        const raw = {
            ...PROTECT,
            imageRegistry: plain("registry.acme.internal"),
            argoCdValues: plain(JSON.stringify(sidecar)),
        };
        const found = (() => {
            try {
                parseConfig(raw, "prod", {});
                return [];
            } catch (e) {
                return (e as ConfigError).problems.map((p) => p.message);
            }
        })();
        assert.deepEqual(found, [
            'sets gitops-dr:argoCdValues.repoServer.extraContainers[0].image to "ghcr.io/acme/cmp:v1.2.0", outside gitops-dr:imageRegistry "registry.acme.internal": with a mirror every image comes from it, so a recovery needs no public registry. Fix: copy the image to registry.acme.internal and `pulumi config set --path \'gitops-dr:argoCdValues.repoServer.extraContainers[0].image\' registry.acme.internal/<repository>:<tag>`.',
        ]);
        const mirrored = {
            repoServer: { extraContainers: [{ name: "cmp", image: "registry.acme.internal/acme/cmp:v1.2.0" }] },
        };
        parseConfig({ ...raw, argoCdValues: plain(JSON.stringify(mirrored)) }, "prod", {});
    });
});

describe("veleroPlugins", () => {
    const pluginProblems = (plugins: string[], extra: RawConfig = {}) => {
        try {
            parseConfig({ ...PROTECT, ...extra, veleroPlugins: plain(JSON.stringify(plugins)) }, "prod", {});
            return [];
        } catch (e) {
            return (e as ConfigError).problems.map((p) => `${p.key}: ${p.message}`);
        }
    };

    it("accepts plugins pinned by tag or digest", () => {
        assert.deepEqual(
            pluginProblems([
                "velero/velero-plugin-for-gcp:v1.14.0",
                `velero/velero-plugin-for-microsoft-azure@sha256:${"a".repeat(64)}`,
            ]),
            [],
        );
    });

    for (const image of [
        "velero/velero-plugin-for-gcp",
        "velero/velero-plugin-for-gcp:latest",
        "Velero/Plugin:v1",
        "https://docker.io/velero/x:v1",
    ]) {
        it(`refuses ${image}, not pinned`, () => {
            const [p, ...rest] = pluginProblems([image]);
            assert.deepEqual(rest, []);
            assert.ok(p.startsWith(`gitops-dr:veleroPlugins: "${image}" is not an image pinned by a tag or digest`), p);
        });
    }

    it("with a mirror, refuses a plugin outside it", () => {
        const [p] = pluginProblems(["velero/velero-plugin-for-gcp:v1.14.0"], {
            imageRegistry: plain("registry.acme.internal"),
        });
        assert.match(p, /is not in gitops-dr:imageRegistry "registry\.acme\.internal"/);
    });

    it("refuses a second AWS plugin and the same plugin twice", () => {
        assert.match(
            pluginProblems(["velero/velero-plugin-for-aws:v1.14.0"])[0],
            /the AWS plugin is pinned: gitops-dr:awsPluginVersion/,
        );
        assert.equal(pluginProblems(["a/velero-plugin-for-gcp:v1", "b/velero-plugin-for-gcp:v2"]).length, 1);
    });

    it("runs each plugin as an init container after the AWS one, into the plugins volume", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: { veleroPlugins: ["velero/velero-plugin-for-gcp:v1.14.0"] },
        });
        const velero = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "velero");
        const init = (
            velero?.inputs.values as { initContainers: { name: string; image: string; volumeMounts: unknown }[] }
        ).initContainers;
        assert.deepEqual(
            init.map((c) => c.name),
            ["velero-plugin-for-aws", "velero-plugin-for-gcp"],
        );
        assert.equal(init[1].image, "velero/velero-plugin-for-gcp:v1.14.0");
        assert.deepEqual(init[1].volumeMounts, [{ mountPath: "/target", name: "plugins" }]);
    });
});

describe("user values: credentials only as secrets", () => {
    const withCredential = { configs: { secret: { argocdServerAdminPassword: "$2a$10$hash" } } };

    it("refuses a credential in plain text, naming the --secret command", () => {
        const found = problems("argoCdValues", withCredential);
        assert.equal(found.length, 1);
        assert.equal(
            found[0].message,
            "sets gitops-dr:argoCdValues.configs.secret.argocdServerAdminPassword in plain text: a credential must be encrypted in the stack file. Fix: `pulumi config set --secret --path 'gitops-dr:argoCdValues.configs.secret.argocdServerAdminPassword' <value>` (the whole gitops-dr:argoCdValues is then a secret).",
        );
    });

    for (const leaf of [
        "clientSecret",
        "api_key",
        "token",
        "privateKey",
        "accessKey",
        "password",
        "keyData",
        "tlsClientCertKey",
    ]) {
        it(`treats ${leaf} as a credential`, () => {
            assert.equal(problems("veleroValues", { extra: { [leaf]: "x" } }).length, 1);
        });
    }

    it("refuses a credential written into a configuration string (dex.config), not one it references", () => {
        const dex = (secretLine: string) => ({
            configs: {
                cm: { "dex.config": `connectors:\n- type: github\n  config:\n    clientID: abc\n    ${secretLine}\n` },
            },
        });
        const [p] = problems("argoCdValues", dex("clientSecret: 0123abcd"));
        assert.match(p.message, /^sets gitops-dr:argoCdValues\.configs\.cm\["dex\.config"\] in plain text/);
        assert.deepEqual(problems("argoCdValues", dex("clientSecret: $dex.github.clientSecret")), []);
    });

    it("accepts credentials set with --secret, and keeps the values secret", () => {
        const cfg = parseConfig({ ...PROTECT, argoCdValues: secret(JSON.stringify(withCredential)) }, "prod", {});
        assert.deepEqual(cfg.argoCd.userValues, { values: withCredential, secret: true });
    });
});

describe("user values: merged over the program's", () => {
    it("merges maps key by key, and lets lists and scalars replace", () => {
        const base = { a: { b: 1, c: [1, 2], d: { e: "x" } }, f: "keep" };
        const merged = mergeValues(base, { a: { c: [3], d: { g: true } }, h: null });
        assert.deepEqual(merged, { a: { b: 1, c: [3], d: { e: "x", g: true } }, f: "keep", h: null });
        assert.deepEqual(base, { a: { b: 1, c: [1, 2], d: { e: "x" } }, f: "keep" }, "the program's values change");
    });

    it("reaches both releases in a real run, over the program's values", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: {
                argoCdValues: JSON.stringify({
                    server: { replicas: 2 },
                    configs: { cm: { url: "https://cd.acme.io" } },
                }),
                veleroValues: JSON.stringify({ resources: { limits: { memory: "2Gi" } } }),
            },
        });
        const releases = run.ofType("kubernetes:helm.sh/v3:Release");
        const values = (chart: string) =>
            releases.find((r) => r.inputs.chart === chart)?.inputs.values as Record<string, Record<string, unknown>>;
        const argo = values("argo-cd");
        assert.equal((argo.server as { replicas: number }).replicas, 2);
        const cm = (argo.configs as { cm: Record<string, unknown> }).cm;
        assert.equal(cm.url, "https://cd.acme.io");
        assert.equal(typeof cm["resource.exclusions"], "string", "the program's exclusions survive the merge");
        const velero = values("velero");
        assert.deepEqual(velero.resources, { limits: { memory: "2Gi" } });
        assert.ok(Array.isArray(velero.initContainers), "the program's plugin survives the merge");
        for (const r of releases) {
            assert.ok(!r.secretPaths.includes("values"), `${r.name}: plain user values stay plain`);
        }
    });

    it("sends a release's values as a secret when the user's values were set with --secret", async () => {
        const run = await runProgram({
            stack: "prod",
            secrets: {
                ...STACK_SECRETS,
                veleroValues: JSON.stringify({ configuration: { extraEnvVars: { token: "s3cr3t" } } }),
            },
        });
        const releases = run.ofType("kubernetes:helm.sh/v3:Release");
        const velero = releases.find((r) => r.inputs.chart === "velero");
        const argo = releases.find((r) => r.inputs.chart === "argo-cd");
        assert.ok(velero?.secretPaths.includes("values"), velero?.secretPaths.join(", "));
        assert.ok(!argo?.secretPaths.includes("values"), "only the release the secret values go to");
    });
});

describe("user values: Dex", () => {
    const dexOf = async (argoCdValues?: unknown) => {
        const run = await runProgram({
            stack: "prod",
            secrets: STACK_SECRETS,
            config: argoCdValues === undefined ? {} : { argoCdValues: JSON.stringify(argoCdValues) },
        });
        const argo = run.ofType("kubernetes:helm.sh/v3:Release").find((r) => r.inputs.chart === "argo-cd");
        return (argo?.inputs.values as { dex: { enabled: boolean } }).dex.enabled;
    };

    it("is off unless the user's values use it (one pod less to restore and pull)", async () => {
        assert.equal(await dexOf(), false);
    });
    it("runs when argoCdValues configure it (configs.cm dex.config)", async () => {
        assert.equal(await dexOf({ configs: { cm: { "dex.config": "connectors: []" } } }), true);
    });
    it("follows an explicit dex.enabled", async () => {
        assert.equal(await dexOf({ dex: { enabled: true } }), true);
        assert.equal(await dexOf({ dex: { enabled: false }, configs: { cm: { "dex.config": "x: 1" } } }), false);
    });
});
