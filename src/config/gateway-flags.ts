import { Option, type Command } from 'commander';

/** The flags of gateway mode (`promgate run --config FILE`), beside k8spin mode's. */
export interface GatewayFlags {
  readonly configFile?: string;
  readonly dnsServer?: string;
  readonly enableProfiling: boolean;
  /** Whether a flag (by its attribute name, `port`) was given on the command line or in the environment. */
  given(name: string): boolean;
}

export function addGatewayOptions(command: Command): Command {
  command.addOption(new Option('--config <file>', "gateway mode: a cortex-gateway, auth-gateway or promgate configuration file").env('PROM_PROXY_CONFIG'));
  command.addOption(new Option('--dns-server <host:port>', "DNS server resolving gateway mode's components (default: the system's resolver)").env('PROM_PROXY_DNS_SERVER'));
  command.addOption(
    new Option('--enable-profiling', 'serve a CPU profile and a heap snapshot on the debug listener, bound to 127.0.0.1').env('PROM_PROXY_ENABLE_PROFILING'),
  );
  return command;
}

export function toGatewayFlags(command: Command): GatewayFlags {
  const raw = command.opts<{ config?: string; dnsServer?: string; enableProfiling?: boolean }>();
  return {
    ...(raw.config !== undefined && { configFile: raw.config }),
    ...(raw.dnsServer !== undefined && { dnsServer: raw.dnsServer }),
    enableProfiling: raw.enableProfiling === true,
    given: (name) => {
      const source = command.getOptionValueSource(name);
      return source === 'cli' || source === 'env';
    },
  };
}
