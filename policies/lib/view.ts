/**
 * The stack as a stack policy sees it, flattened into plain nodes with URN references, plus the graph and
 * mode questions several policies ask.
 */
import type { PolicyResource, PolicyResourceOptions } from "@pulumi/policy";
import { directDependencies, waitsFor } from "./graph";

import { T, isType } from "./types";
import { Json } from "./values";

/**
 * Resource options as the pack reads them. `retainOnDelete` is not part of the analyzer protocol
 * (`AnalyzerResourceOptions` in pulumi's `analyzer.proto` has no such field), so under `pulumi preview
 * --policy-pack` it is always absent; the offline gate fills it in from the engine's recording.
 */
export type GateResourceOptions = PolicyResourceOptions & { retainOnDelete?: boolean };

/** One resource of the stack. */
export interface Node {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly props: Json;
    readonly opts: GateResourceOptions;
    readonly parent?: string;
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

/** What a stack does, as `components/config/` names it. */
export type Mode = "protect" | "recover" | "drill";

/** The resources of one stack with graph helpers. */
export class StackView {
    private readonly byUrnMap: Map<string, Node>;

    constructor(readonly nodes: readonly Node[]) {
        this.byUrnMap = new Map(nodes.map((n) => [n.urn, n]));
    }

    /** Builds the view from the resources the policy SDK hands a stack policy. */
    static fromPolicyResources(resources: readonly PolicyResource[]): StackView {
        return new StackView(
            resources.map((r) => {
                const propertyDependencies: Record<string, string[]> = {};
                for (const [key, deps] of Object.entries(r.propertyDependencies)) {
                    propertyDependencies[key] = deps.map((d) => d.urn);
                }
                const props: Json = r.props;
                return {
                    type: r.type,
                    name: r.name,
                    urn: r.urn,
                    props,
                    opts: r.opts,
                    parent: r.parent?.urn,
                    dependencies: r.dependencies.map((d) => d.urn),
                    propertyDependencies,
                };
            }),
        );
    }

    ofType(token: string | readonly string[]): Node[] {
        return this.nodes.filter((n) => isType(n.type, token));
    }

    byUrn(urn: string): Node | undefined {
        return this.byUrnMap.get(urn);
    }

    /** Explicit and per-input dependencies of a node. */
    directDependencies(node: Node): Set<string> {
        return directDependencies(node);
    }

    /** Whether `a` waits for `b`: directly or through a chain of dependencies (policies/lib/graph.ts). */
    dependsOn(a: Node, b: Node): boolean {
        return waitsFor(a, b, (urn) => this.byUrnMap.get(urn));
    }

    /** The stack's outputs (the `pulumi:pulumi:Stack` resource's properties in stack analysis). */
    outputs(): Json {
        return this.ofType(T.stack)[0]?.props ?? {};
    }
}
