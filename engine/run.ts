/**
 * The result of one program run and the questions tests and tools ask of it: resources by type, the dependency
 * graph (the same walk the policy pack uses, policies/lib/graph.ts), parents and children.
 */
import { directDependencies, waitsFor } from "../policies/lib/graph";
import { BACKUP_KIND_LABEL } from "../components/velero/credentials";
import type { SimulatedCluster } from "./cluster";
import type { ReadResource, RegisteredResource } from "./recorder";

const RESTORE = "kubernetes:velero.io/v1:Restore";
const SCHEDULE = "kubernetes:velero.io/v1:Schedule";

function labelOf(r: RegisteredResource, key: string): string | undefined {
    return (r.inputs.metadata as { labels?: Record<string, string> } | undefined)?.labels?.[key];
}

/** The result of one program run: every registration and the stack outputs. */
export class ProgramRun {
    private readonly byUrnMap: Map<string, RegisteredResource>;

    constructor(
        readonly resources: readonly RegisteredResource[],
        readonly outputs: Readonly<Record<string, unknown>>,
        readonly config: Readonly<Record<string, string>>,
        readonly reads: readonly ReadResource[] = [],
        readonly warnings: readonly string[] = [],
        /** The simulated cluster as the run left it. */
        readonly cluster?: SimulatedCluster,
    ) {
        this.byUrnMap = new Map(resources.map((r) => [r.urn, r]));
    }

    /** Every resource of a type token, e.g. `aws:s3/bucket:Bucket`. */
    ofType(type: string): RegisteredResource[] {
        return this.resources.filter((r) => r.type === type);
    }

    /** The single resource of a type (and name, when given); throws when there is not exactly one. */
    one(type: string, name?: string): RegisteredResource {
        const found = this.ofType(type).filter((r) => name === undefined || r.name === name);
        if (found.length !== 1) {
            throw new Error(
                `expected exactly one ${type}${name === undefined ? "" : ` named ${name}`}, found ${found.length}: ` +
                    `[${this.ofType(type)
                        .map((r) => r.name)
                        .join(", ")}]`,
            );
        }
        return found[0];
    }

    /**
     * The run's data Restore, or with `credentials` its credentials Restore (labelled `gitops-dr.io/backup-kind`,
     * components/velero/credentials.ts); throws when there is not exactly one.
     */
    restore(kind: "data" | "credentials" = "data"): RegisteredResource {
        return this.oneWhere(RESTORE, kind, (r) => labelOf(r, BACKUP_KIND_LABEL) === "credentials");
    }

    /** The run's daily Schedule, or with `credentials` its credentials Schedule; throws unless exactly one. */
    schedule(kind: "daily" | "credentials" = "daily"): RegisteredResource {
        return this.oneWhere(
            SCHEDULE,
            kind,
            (r) => labelOf(r, BACKUP_KIND_LABEL) === "credentials",
            (r) => String((r.inputs.metadata as { name?: string } | undefined)?.name ?? "").endsWith("-daily"),
        );
    }

    private oneWhere(
        type: string,
        kind: string,
        isCredentials: (r: RegisteredResource) => boolean,
        isOther: (r: RegisteredResource) => boolean = () => true,
    ): RegisteredResource {
        const found = this.ofType(type).filter((r) =>
            kind === "credentials" ? isCredentials(r) : !isCredentials(r) && isOther(r),
        );
        if (found.length !== 1) {
            throw new Error(
                `expected exactly one ${kind} ${type}, found ${found.length}: [${this.ofType(type)
                    .map((r) => r.name)
                    .join(", ")}]`,
            );
        }
        return found[0];
    }

    byUrn(urn: string): RegisteredResource {
        const r = this.byUrnMap.get(urn);
        if (r === undefined) {
            throw new Error(`no resource with URN ${urn}`);
        }
        return r;
    }

    /** The resource's direct dependencies: explicit ones and every input's. */
    directDependencies(r: RegisteredResource): Set<string> {
        return directDependencies(r);
    }

    /** Whether `a` waits for `b`: directly or through a chain of dependencies (policies/lib/graph.ts). */
    dependsOn(a: RegisteredResource, b: RegisteredResource): boolean {
        return waitsFor(a, b, (urn) => this.byUrnMap.get(urn));
    }

    /** The resource's chain of parents, nearest first. */
    ancestors(r: RegisteredResource): RegisteredResource[] {
        const chain: RegisteredResource[] = [];
        let parent = r.parent;
        while (parent !== undefined && parent !== "") {
            const p = this.byUrnMap.get(parent);
            if (p === undefined) {
                break;
            }
            chain.push(p);
            parent = p.parent;
        }
        return chain;
    }

    /** Every resource below a component, at any depth. */
    descendants(component: RegisteredResource): RegisteredResource[] {
        return this.resources.filter((r) => this.ancestors(r).some((a) => a.urn === component.urn));
    }
}
