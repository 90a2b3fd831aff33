// `vnetfw completion bash|zsh`: shell scripts generated from the command specs. Both scripts walk
// the words typed so far to find the command path (`log compact`), skip option values, then offer
// that command's subcommands, options, or the values its next argument or option takes. Network
// names come from `vnetfw [--state-dir DIR] list`, run with the words as argv (never evaluated).
import { optionsOf, pathName } from './parse.js';
import type { Command, Completer } from './spec.js';

// Single-quoted for both shells: the text cannot end the quote or expand.
const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

const kindOf = (c: Completer | undefined): string =>
  c === undefined ? 'none' : typeof c === 'string' ? c : `w:${c.join(',')}`;

interface Level { key: string; subs: Command[]; opts: string[]; values: Array<[string, string]>; args: string[]; rep: boolean }

const levels = (path: Command[]): Level[] => {
  const cmd = path[path.length - 1]!;
  const subs = (cmd.subcommands ?? []).filter((s) => s.hidden !== true);
  const spec = optionsOf(path);
  const opts = Object.entries(spec).flatMap(([n, o]) => [`--${n}`, ...(o.short === undefined ? [] : [`-${o.short}`])]);
  const values = Object.entries(spec).filter(([, o]) => o.type === 'string').map(([n, o]): [string, string] => [`--${n}`, kindOf(o.complete)]);
  const args = (cmd.args ?? []).map((a) => kindOf(a.complete));
  const here: Level = { key: pathName(path), subs, opts, values, args, rep: cmd.args?.some((a) => a.variadic === true) === true };
  return [here, ...subs.flatMap((s) => levels([...path, s]))];
};

// Shared by both scripts: `_vnetfw_spec PATH` sets subs/opts/args/rep (and descs for zsh);
// `_vnetfw_kind PATH OPTION` prints how the option's value completes, status 1 if it takes none.
const specFunctions = (root: Command, zsh: boolean): string => {
  const all = levels([root]);
  const specCases = all.map((l) => {
    const descs = zsh ? ` descs=(${l.subs.map((s) => q(`${s.name}:${s.summary.replace(/:/g, '\\:')}`)).join(' ')});` : '';
    return `    ${q(l.key)}) subs=${q(l.subs.map((s) => s.name).join(' '))}; opts=${q(l.opts.join(' '))}; args=${q(l.args.join(' '))}; rep=${l.rep ? '1' : "''"};${descs} ;;`;
  });
  const kindCases = all.flatMap((l) => l.values.map(([o, k]) => `    ${q(`${l.key} ${o}`)}) echo ${q(k)} ;;`));
  return [
    '_vnetfw_spec() {',
    `  subs='' opts='' args='' rep=''${zsh ? ' descs=()' : ''}`,
    '  case "$1" in',
    ...specCases,
    '  esac',
    '}',
    '_vnetfw_kind() {',
    '  case "$1 $2" in',
    ...kindCases,
    '    *) return 1 ;;',
    '  esac',
    '}',
  ].join('\n');
};

export const bashCompletion = (root: Command): string => `# bash completion for vnetfw: eval "$(vnetfw completion bash)", or save it as
# /etc/bash_completion.d/vnetfw
${specFunctions(root, false)}
_vnetfw_values() {
  local w
  case "$1" in
    file) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -f -- "$cur")) ;;
    dir) compopt -o filenames 2>/dev/null; COMPREPLY+=($(compgen -d -- "$cur")) ;;
    network) COMPREPLY+=($(compgen -W "$("\${COMP_WORDS[0]}" "\${sd[@]}" list 2>/dev/null | awk 'NR > 1 { print $1 }')" -- "$cur")) ;;
    w:*) w=\${1#w:}; COMPREPLY+=($(compgen -W "\${w//,/ }" -- "$cur")) ;;
  esac
}
_vnetfw() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmdpath='' w i n=0 kind valkind='' subs opts args rep
  local -a sd=() a
  COMPREPLY=()
  for ((i = 1; i < COMP_CWORD; i++)); do
    w=\${COMP_WORDS[i]}
    case "$w" in
      --*=*) ;;
      -*) if kind=$(_vnetfw_kind "$cmdpath" "$w"); then
            # bash splits '--opt=value' at '=' into three words
            if [[ \${COMP_WORDS[i+1]} == = ]]; then ((i++)); fi
            if ((i + 1 == COMP_CWORD)); then valkind=$kind; break; fi
            [[ $w == --state-dir ]] && sd=(--state-dir "\${COMP_WORDS[i+1]}")
            ((i++)); fi ;;
      *) _vnetfw_spec "$cmdpath"
         if ((n == 0)) && [[ " $subs " == *" $w "* ]]; then cmdpath=\${cmdpath:+$cmdpath }$w; else ((n++)); fi ;;
    esac
  done
  if [[ -n $valkind ]]; then _vnetfw_values "$valkind"; return 0; fi
  _vnetfw_spec "$cmdpath"
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); return 0; fi
  if ((n == 0)) && [[ -n $subs ]]; then COMPREPLY=($(compgen -W "$subs" -- "$cur")); fi
  read -ra a <<< "$args"
  if ((n < \${#a[@]})); then _vnetfw_values "\${a[n]}"; elif [[ -n $rep ]] && ((\${#a[@]} > 0)); then _vnetfw_values "\${a[-1]}"; fi
  return 0
}
complete -F _vnetfw vnetfw
`;

export const zshCompletion = (root: Command): string => `#compdef vnetfw
# zsh completion for vnetfw: save as _vnetfw in a directory of $fpath, or
# source <(vnetfw completion zsh) after compinit
${specFunctions(root, true)}
_vnetfw_values() {
  local -a ws
  case "$1" in
    file) _files ;;
    dir) _files -/ ;;
    network) ws=(\${(f)"$("\${words[1]}" "\${sd[@]}" list 2>/dev/null | awk 'NR > 1 { print $1 }')"}); compadd -a ws ;;
    w:*) ws=(\${(s:,:)\${1#w:}}); compadd -a ws ;;
  esac
}
_vnetfw() {
  local cur=\${words[CURRENT]} cmdpath='' w i n=0 kind valkind='' subs opts args rep
  local -a sd descs a
  for ((i = 2; i < CURRENT; i++)); do
    w=\${words[i]}
    case "$w" in
      --*=*) ;;
      -*) if kind=$(_vnetfw_kind "$cmdpath" "$w"); then
            if ((i + 1 == CURRENT)); then valkind=$kind; break; fi
            [[ $w == --state-dir ]] && sd=(--state-dir "\${words[i+1]}")
            ((i++)); fi ;;
      *) _vnetfw_spec "$cmdpath"
         if ((n == 0)) && [[ " $subs " == *" $w "* ]]; then cmdpath=\${cmdpath:+$cmdpath }$w; else ((n++)); fi ;;
    esac
  done
  if [[ -n $valkind ]]; then _vnetfw_values "$valkind"; return 0; fi
  _vnetfw_spec "$cmdpath"
  if [[ $cur == -* ]]; then compadd -- \${=opts}; return 0; fi
  if ((n == 0)) && [[ -n $subs ]]; then _describe 'command' descs; fi
  a=(\${=args})
  if ((n < \${#a})); then _vnetfw_values "\${a[n+1]}"; elif [[ -n $rep ]] && ((\${#a} > 0)); then _vnetfw_values "\${a[-1]}"; fi
  return 0
}
if [[ "\${funcstack[1]}" == _vnetfw ]]; then _vnetfw "$@"; else compdef _vnetfw vnetfw; fi
`;

export const SHELLS = ['bash', 'zsh'] as const;
export const completionScript = (shell: (typeof SHELLS)[number], root: Command): string =>
  (shell === 'bash' ? bashCompletion(root) : zshCompletion(root));
