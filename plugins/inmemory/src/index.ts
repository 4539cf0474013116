import type { DriverFactory } from 'stowage';
export const createDriver: DriverFactory = (_o, ctx) => { throw ctx.errors.unsupported('x'); };
