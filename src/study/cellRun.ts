export interface CellJobTask { kind: 'cells'; port?: import('node:worker_threads').MessagePort }
export async function runCellJob(_t: CellJobTask): Promise<unknown> { return null; }
