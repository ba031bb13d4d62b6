export { linearSumAssignment, AssignmentSolver } from './solver.ts';
export type { CostMatrix, AssignmentOptions, AssignmentResult } from './solver.ts';
