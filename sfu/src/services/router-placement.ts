// Where a new viewer's receive transport goes. The origin carries every producer; past the consumer
// threshold a room grows onto other workers, each edge router fed from the origin by pipeToRouter.

export interface RouterLoad {
  workerIndex: number;
  consumers: number;
}

/** The first router under the threshold, in the order the room opened them (the origin first). */
export function freeRouter<S extends RouterLoad>(routers: readonly S[], threshold: number): S | undefined {
  return routers.find((r) => r.consumers < threshold);
}

/**
 * Every router is full and the pool offers `worker`: grow onto it, unless the room already has a router
 * there (every worker carries the room); then spread over the routers there are, fewest consumers first.
 */
export function whenFull<S extends RouterLoad>(routers: readonly S[], worker: number): S | 'grow' {
  if (!routers.some((r) => r.workerIndex === worker)) return 'grow';
  return routers.reduce((a, b) => (b.consumers < a.consumers ? b : a));
}
