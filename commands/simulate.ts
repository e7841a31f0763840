import {BaseCommand} from '../src/cli/base-command.js'
import {simulateFlags} from '../src/simulate/flags.js'
import type {SimulateOutput} from '../src/simulate/run.js'

export default class Simulate extends BaseCommand<typeof Simulate> {
  static override summary = "Put load through the pool/queue core and see what your pool and queue settings do under it."

  static override description = `Runs arrivals (Poisson by default, with steady, ramp and spike phases) through poolctl's QueueBroker and
ConnectionPool: against a database (SELECT pg_sleep(service time), or --query; a temporary embedded
PostgreSQL when no connection is given), or --virtual on a deterministic virtual clock. Live dashboard on
a terminal, one progress line per second (stderr) otherwise; then a report with recommendations.
Exit codes: 0 done (also when stopped with q/Ctrl-C: 130), 3 could not connect, 64 bad flag or scenario.`

  static override examples = [
    '<%= config.bin %> simulate',
    '<%= config.bin %> simulate --virtual --rate 500 --duration 1h --connections 10,20,40',
    '<%= config.bin %> simulate --url postgres://app@db:5432/app --phases steady:30s@100,spike:10s@800 --queue-size 200',
    '<%= config.bin %> simulate --scenario burst.yaml --json --report burst.json',
  ]

  static override flags = simulateFlags

  public async run(): Promise<SimulateOutput> {
    const {prepareSimulation} = await import('../src/simulate/command.js')
    const plan = await prepareSimulation(this.flags, {connectionSettings: () => this.connectionSettings({applicationName: undefined})})
    const {simulate} = await import('../src/simulate/run.js')
    const stop = new AbortController()
    const onSignal = (): void => {
      if (stop.signal.aborted) process.exit(130) // a second Ctrl-C: give up on cleaning up
      stop.abort()
    }
    process.on('SIGINT', onSignal).on('SIGTERM', onSignal)
    try {
      const {output} = await simulate({
        ...plan,
        interactive: plan.interactive && !this.jsonEnabled(),
        signal: stop.signal,
        onQuit: () => stop.abort(),
        say: (line) => process.stderr.write(`${line}\n`),
        io: {stdout: process.stdout, stderr: process.stderr, stdin: process.stdin},
      })
      if (output === undefined) {
        process.stderr.write('poolctl: stopped before the run started\n')
        return this.exit(130)
      }
      if (!this.jsonEnabled()) this.log(await plan.render(output))
      if (stop.signal.aborted) process.exitCode = 130
      return output
    } finally {
      process.off('SIGINT', onSignal).off('SIGTERM', onSignal)
    }
  }
}
