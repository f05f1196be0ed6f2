// `completion bash|zsh`: a shell completion script. Commands and options are sagebuild's own
// (passed in, so they never drift from main.ts's); package names come from `sagebuild list` at
// completion time, a query that never builds (with the -C/--prefix/--pkgs given so far).
import { UserError } from '../diagnostics.js';
import { SPECIAL_TARGETS } from '../targets.js';
import { out } from './options.js';
import type { Io } from '../util/io.js';

const bash = (commands: string, options: string) => `# sagebuild completion for bash: \`source <(sagebuild completion bash)\` in ~/.bashrc, or
# \`sagebuild completion bash > ~/.local/share/bash-completion/completions/sagebuild\`.
_sagebuild() {
    local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
    case "$prev" in
        -C|--config|--trace) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --prefix|--pkgs) COMPREPLY=($(compgen -d -- "$cur")); return ;;
        --color) COMPREPLY=($(compgen -W "auto always never" -- "$cur")); return ;;
        --format) COMPREPLY=($(compgen -W "dot json" -- "$cur")); return ;;
        -j|--jobs) COMPREPLY=(); return ;;
        completion) COMPREPLY=($(compgen -W "bash zsh" -- "$cur")); return ;;
    esac
    if [[ "$cur" == -* ]]; then
        COMPREPLY=($(compgen -W "${options}" -- "$cur"))
        return
    fi
    local args=() i
    for ((i = 1; i < COMP_CWORD; i++)); do
        case "\${COMP_WORDS[i]}" in -C|--config|--prefix|--pkgs) args+=("\${COMP_WORDS[i]}" "\${COMP_WORDS[i+1]}") ;; esac
    done
    local pkgs words
    pkgs=$("\${COMP_WORDS[0]}" "\${args[@]}" list 2>/dev/null)
    words="${commands} $pkgs"
    if [[ "$cur" == *-* ]]; then
        local p
        for p in $pkgs; do words+=" $p-clean $p-no-deps $p-uninstall"; done
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _sagebuild sagebuild
`;

const zsh = (commands: string, options: string) => `#compdef sagebuild
# sagebuild completion for zsh: \`source <(sagebuild completion zsh)\` in ~/.zshrc (after compinit),
# or \`sagebuild completion zsh > "\${fpath[1]}/_sagebuild"\`.
_sagebuild() {
    local cur=\${words[CURRENT]} prev=\${words[CURRENT-1]}
    case $prev in
        -C|--config|--trace) _files; return ;;
        --prefix|--pkgs) _files -/; return ;;
        --color) compadd auto always never; return ;;
        --format) compadd dot json; return ;;
        -j|--jobs) return ;;
        completion) compadd bash zsh; return ;;
    esac
    if [[ $cur == -* ]]; then
        compadd -- ${options}
        return
    fi
    local -a args pkgs extra
    local i p
    for ((i = 2; i < CURRENT; i++)); do
        case \${words[i]} in -C|--config|--prefix|--pkgs) args+=(\${words[i]} \${words[i+1]}) ;; esac
    done
    pkgs=(\${(f)"$(\${words[1]} \${args[@]} list 2>/dev/null)"})
    if [[ $cur == *-* ]]; then
        for p in $pkgs; do extra+=($p-clean $p-no-deps $p-uninstall); done
    fi
    compadd -- ${commands} $pkgs $extra
}
if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
    _sagebuild "$@"
else
    compdef _sagebuild sagebuild
fi
`;

/** `options`: every option's spelling (-j, --jobs, ...). */
export function completion(args: string[], options: string[], io: Io): number {
  const shell = args[0];
  if (args.length !== 1 || (shell !== 'bash' && shell !== 'zsh')) {
    throw new UserError({ message: `'completion' takes one shell, bash or zsh${args.length ? `, not: ${args.join(' ')}` : ''}`, hint: 'source <(sagebuild completion bash)' });
  }
  const commands = SPECIAL_TARGETS.join(' ');
  const opts = [...options, '--with-system-', '--without-system-'].join(' ');
  out({ io }, [(shell === 'bash' ? bash : zsh)(commands, opts).trimEnd()]);
  return 0;
}
