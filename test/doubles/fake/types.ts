// What a simulated program produced (the fake runner wraps it into a RunResult).
export interface ProgramOutput { exitCode: number; stdout: string; stderr: string }
