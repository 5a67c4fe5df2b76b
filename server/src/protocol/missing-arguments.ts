// The message for a run that needs arguments nobody gave, for clients that do not prompt
// themselves: it names the parameters and says how to give them in that editor (from
// `clientInfo.name`), since "pass them with the command" cannot be acted on in any of them.

/** `ratio` needs `a`, `b`: how to give them in the editor named `clientName`. */
export function missingArgumentsMessage(functionName: string, missing: string[], clientName: string | undefined): string {
  const names = missing.map((name) => `\`${name}\``).join(', ');
  const example = `${functionName}(${missing.map((name) => `${name}=…`).join(', ')})`;
  const head = `\`${functionName}\` needs ${missing.length === 1 ? 'a value' : 'values'} for ${names}.`;
  const callSite = `write a call such as \`${example}\` in the file and run the action from its line`;
  const client = (clientName ?? '').toLowerCase();
  if (client.includes('helix')) return `${head} Helix actions take no arguments: ${callSite} (space a).`;
  if (client.includes('neovim') || client === 'nvim') {
    return `${head} Run \`:Choppa run\` on it (the choppa plugin asks for them), or ${callSite}.`;
  }
  if (client.includes('emacs') || client.includes('eglot')) {
    return `${head} \`M-x choppa-run\` (client-emacs/choppa.el) asks for them; or ${callSite}.`;
  }
  return `${head} Give them with the command as \`args\` (Python, e.g. "1, b=2"), or ${callSite}.`;
}
