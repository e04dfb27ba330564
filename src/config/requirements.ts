export interface AppRequirements {
  kind: 'static' | 'static-pie' | 'dynamic' | 'none';
  interpreter?: string;
  needed: string[];
  go: boolean;
  python: boolean;
}
