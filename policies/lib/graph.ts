/**
 * The resource graph as Pulumi records it: a resource waits for its explicit dependencies and for every
 * resource one of its inputs came from. Shared by the policy pack (over analyzer resources) and the offline
 * engine (over its recording), so both answer "does A wait for B" the same way.
 */

/** What the graph needs of a resource. */
export interface GraphNode {
    readonly urn: string;
    readonly dependencies: readonly string[];
    readonly propertyDependencies: Readonly<Record<string, readonly string[]>>;
}

/** A node's direct dependencies: explicit ones and every input's. */
export function directDependencies(node: GraphNode): Set<string> {
    return new Set([...node.dependencies, ...Object.values(node.propertyDependencies).flat()]);
}

/**
 * Whether `a` waits for `b`: directly or through a chain of dependencies. Parents are not followed: a child
 * does not wait for its parent's dependencies unless the SDK copied them.
 */
export function waitsFor<N extends GraphNode>(a: N, b: N, byUrn: (urn: string) => N | undefined): boolean {
    const seen = new Set<string>();
    const pending = [...directDependencies(a)];
    while (pending.length > 0) {
        const urn = pending.pop()!;
        if (urn === b.urn) {
            return true;
        }
        if (!seen.has(urn)) {
            seen.add(urn);
            const next = byUrn(urn);
            if (next !== undefined) {
                pending.push(...directDependencies(next));
            }
        }
    }
    return false;
}
