/*
 * ui_static.c - the app's stylesheet and its one small script.
 *
 * Every page works without the script: it only hides what a choice makes
 * pointless (the scores once "declined" is ticked, the NHS number once
 * "no NHS number" is) and reloads a sync's progress (without it, a link
 * does). Colours meet WCAG 2.2 AA contrast; the layout
 * fits a 390 px wide screen without scrolling sideways.
 */
#include <string.h>

#include "ui.h"

static const char css[] =
"*,*::before,*::after{box-sizing:border-box}\n"
"html{font-family:system-ui,-apple-system,'Segoe UI',Arial,sans-serif;"
"font-size:100%;line-height:1.45;color:#0b0c0c;background:#fff}\n"
"body{margin:0}\n"
"a{color:#1d4f91}a:visited{color:#4c2c92}\n"
"a:focus,button:focus,input:focus,select:focus,textarea:focus,"
"summary:focus{outline:3px solid #fd0;outline-offset:0;"
"box-shadow:0 0 0 5px #0b0c0c}\n"
".skip{position:absolute;left:-999em}.skip:focus{left:1em;top:1em;"
"background:#fd0;color:#0b0c0c;padding:.5em;z-index:9}\n"
"header{background:#1d4f91;color:#fff;padding:.5em 1em}\n"
"header a,header a:visited{color:#fff}\n"
"header ul{list-style:none;margin:0;padding:0;display:flex;"
"flex-wrap:wrap;gap:.25em 1.25em}\n"
"header li a{display:inline-block;padding:.35em 0;font-weight:600}\n"
".status{margin:.35em 0;font-size:.95em}\n"
".quit{margin:.25em 0}\n"
".quit button{background:#fff;color:#1d4f91;border:2px solid #fff}\n"
"main{max-width:60em;margin:0 auto;padding:1em}\n"
"h1{font-size:1.75em;margin:.3em 0 .6em}h2{font-size:1.3em;"
"margin:1.2em 0 .5em}\n"
"p,li,dd{max-width:40em;overflow-wrap:anywhere}\n"
"fieldset{border:0;margin:0 0 1.25em;padding:0;min-width:0}\n"
"legend{font-weight:700;padding:0;margin-bottom:.35em;max-width:100%;"
"white-space:normal}\n"
".field{margin:0 0 1.25em}\n"
"label{display:block;font-weight:700;margin-bottom:.25em}\n"
".choice label,.scale label{display:inline;font-weight:400;margin:0}\n"
".choice{display:flex;align-items:flex-start;gap:.5em;margin:.4em 0}\n"
".choice input{width:1.4em;height:1.4em;margin:0;flex:none}\n"
".hint{color:#505a5f;margin:0 0 .35em;font-size:.95em}\n"
"input[type=text],input[type=date],input[type=number],select,textarea"
"{font:inherit;padding:.4em;border:2px solid #0b0c0c;border-radius:0;"
"max-width:100%;background:#fff;color:#0b0c0c}\n"
"input[type=text],select,textarea{width:100%;max-width:30em}\n"
"input[type=number]{width:6em}\n"
"input.date{width:9em}input.picker{margin-left:.5em;width:auto}\n"
".scale{display:flex;flex-wrap:wrap;gap:.25em}\n"
".scale span{display:inline-flex;align-items:center;gap:.2em;"
"border:1px solid #b1b4b6;padding:.35em .5em;min-width:3em}\n"
".scale input{width:1.3em;height:1.3em;margin:0}\n"
".anchors{display:flex;justify-content:space-between;max-width:36em;"
"color:#505a5f;font-size:.95em;margin:.2em 0}\n"
"button,.button{font:inherit;font-weight:700;background:#00703c;"
"color:#fff;border:0;padding:.55em 1em;cursor:pointer;"
"text-decoration:none;display:inline-block;margin:.2em .5em .2em 0}\n"
".button:visited{color:#fff}\n"
".secondary{background:#f3f2f1;color:#0b0c0c;border:2px solid #0b0c0c}\n"
".secondary:visited{color:#0b0c0c}\n"
".warning{background:#d4351c}\n"
".error{color:#d4351c;font-weight:700;margin:.25em 0}\n"
".invalid{border-left:5px solid #d4351c;padding-left:.75em}\n"
".summary{border:5px solid #d4351c;padding:1em;margin:0 0 1.5em}\n"
".summary h2{margin-top:0}\n"
"main li{margin:.4em 0}\n"
"main li a,td a,.summary a{display:inline-block;min-height:24px;"
"line-height:24px;min-width:24px}\n"
".notice{border:5px solid #00703c;padding:1em;margin:0 0 1.5em}\n"
".caution{border:5px solid #1d4f91;padding:1em;margin:0 0 1.5em}\n"
".table{overflow-x:auto;max-width:100%}\n"
"table{border-collapse:collapse;width:100%;margin:0 0 1em}\n"
"th,td{text-align:left;border-bottom:1px solid #b1b4b6;padding:.4em .5em;"
"vertical-align:top;overflow-wrap:anywhere}\n"
"th{font-weight:700}\n"
".counts{display:flex;flex-wrap:wrap;gap:1em;list-style:none;padding:0}\n"
".counts li{border:2px solid #1d4f91;padding:.5em 1em;min-width:8em}\n"
".counts strong{display:block;font-size:1.6em}\n"
"dl{display:grid;grid-template-columns:minmax(7em,12em) 1fr;gap:.3em 1em}\n"
"dt{font-weight:700}dd{margin:0}\n"
".chart{max-width:100%;height:auto}\n"
".charts{display:flex;flex-wrap:wrap;gap:0 1.5em}"
".charts figure{margin:0 0 1em;flex:0 1 300px}\n"
"td[data-label=Date],td[data-label=Referred]{white-space:nowrap}\n"
"progress{width:100%;max-width:30em;height:1.5em}\n"
".voided{text-decoration:line-through}\n"
"@media (max-width:40em){dl{grid-template-columns:1fr}dd{margin-bottom:"
".5em}main{padding:.75em}"
"table.stack thead{position:absolute;left:-999em}"
"table.stack tr{display:block;border-bottom:2px solid #b1b4b6;"
"padding:.3em 0}table.stack td{display:block;border:0;padding:.15em 0}"
"table.stack td[data-label]::before{content:attr(data-label) \": \";"
"font-weight:700}}\n"
"@media (prefers-reduced-motion:reduce){*{transition:none!important}}\n";

static const char js[] =
"'use strict';\n"
"/* Hides what a choice makes pointless; every form works without it. */\n"
"(function(){\n"
"function toggle(box,sel){\n"
" var els=document.querySelectorAll(sel);\n"
" function apply(){for(var i=0;i<els.length;i++){"
"els[i].hidden=box.checked;}}\n"
" box.addEventListener('change',apply);apply();\n"
"}\n"
"var d=document.getElementById('f-declined');\n"
"if(d)toggle(d,'.score');\n"
"var n=document.getElementById('f-no_nhs_number');\n"
"if(n)toggle(n,'#w-nhs_number');\n"
"/* a date picker beside each date typed DD/MM/YYYY */\n"
"function two(n){return (n<10?'0':'')+n;}\n"
"var ds=document.querySelectorAll('input[data-date]');\n"
"for(var i=0;i<ds.length;i++)(function(t){\n"
" var p=document.createElement('input');p.type='date';p.className='picker';\n"
" var l=document.querySelector('label[for='+t.id+']');\n"
" p.setAttribute('aria-label',(l?l.textContent:'Date')+': date picker');\n"
" var d=new Date();p.max=d.getFullYear()+'-'+two(d.getMonth()+1)+'-'+"
"two(d.getDate());\n"
" function fromText(){var m=/^(\\d{1,2})\\/(\\d{1,2})\\/(\\d{4})$/"
".exec(t.value);p.value=m?m[3]+'-'+two(+m[2])+'-'+two(+m[1]):'';}\n"
" p.addEventListener('change',function(){var m=/^(\\d{4})-(\\d\\d)-"
"(\\d\\d)$/.exec(p.value);if(m)t.value=m[3]+'/'+m[2]+'/'+m[1];});\n"
" t.addEventListener('input',fromText);fromText();\n"
" t.parentNode.insertBefore(p,t.nextSibling);\n"
"})(ds[i]);\n"
"/* a running sync: show its progress as it goes */\n"
"if(document.getElementById('sync-running'))\n"
" setTimeout(function(){location.reload();},1000);\n"
"})();\n";

void
ui_css(struct ui_req *r)
{
	ui_answer(r, 200, "text/css; charset=utf-8", css, sizeof(css) - 1);
}

void
ui_js(struct ui_req *r)
{
	ui_answer(r, 200, "text/javascript; charset=utf-8", js, sizeof(js) - 1);
}
