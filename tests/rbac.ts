/**
 * The simulated API as a task's service account sees it (tests of the tasks that run as their own identity): every
 * call is checked against the rules of its ClusterRole and of its Role in Velero's namespace, and one that no rule
 * allows fails as the API server would, with 403.
 */
import * as assert from "node:assert/strict";

import type { PolicyRule } from "../components/tasks";
import type { ClusterStore } from "../engine/cluster";

/** The rules of a task's identity: cluster-wide, and in Velero's namespace. */
export interface TaskRules {
    readonly clusterRules: readonly PolicyRule[];
    readonly namespaceRules: readonly PolicyRule[];
}

/** `api` restricted to what `rules` allow. */
export function withRbac(api: ClusterStore, rules: TaskRules, veleroNamespace: string): ClusterStore {
    const allowed = (verb: string, path: string) => {
        const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?/.exec(path);
        assert.ok(m, `unparsed path ${path}`);
        const [, group = "", namespace, resource, name] = m;
        // A namespace itself (`/api/v1/namespaces/<name>`) is cluster-scoped.
        const [res, ns, named] =
            resource === undefined ? ["namespaces", undefined, namespace] : [resource, namespace, name];
        const verbOf = verb === "read" ? (named === undefined ? "list" : "get") : verb;
        const applicable = [...rules.clusterRules, ...(ns === veleroNamespace ? rules.namespaceRules : [])];
        return applicable.some(
            (r) =>
                r.apiGroups.includes(group) &&
                r.resources.includes(res) &&
                r.verbs.includes(verbOf) &&
                (r.resourceNames === undefined || (named !== undefined && r.resourceNames.includes(named))),
        );
    };
    const check = (verb: string, path: string) => {
        if (!allowed(verb, path)) {
            throw new Error(`forbidden: ${verb} ${path} (403): the task's rules allow no such request`);
        }
    };
    return new Proxy(api, {
        get(target, prop, receiver) {
            const value = Reflect.get(target, prop, receiver) as unknown;
            if (typeof value !== "function") {
                return value;
            }
            const verb = { get: "read", list: "read", create: "create", remove: "delete", mergePatch: "patch" }[
                String(prop)
            ];
            return (...args: unknown[]) => {
                if (verb !== undefined) {
                    check(verb, String(args[0]));
                }
                return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
        },
    });
}
