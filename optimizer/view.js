// The plan view's script (optimizer/view.py embeds it in the page): draws SVG
// from the JSON in <script id="data">. No library, no network.
(function(){
"use strict";
var D=JSON.parse(document.getElementById('data').textContent);
var H=D.slots,PAL=['#d62728','#ff7f0e','#2ca02c','#1f77b4','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
var RC=['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function num(x){if(x===null||x===undefined)return '-';var a=Math.abs(x);
 if(Number.isInteger(x))return x.toLocaleString('en-US');
 if(a>=100)return x.toLocaleString('en-US',{maximumFractionDigits:1});
 if(a>=1)return x.toLocaleString('en-US',{maximumFractionDigits:2});return x.toPrecision(3);}
function pct(x){return x===null||x===undefined?'-':(100*x).toFixed(2)+'%';}
function tierColor(t){var i=D.tiers.indexOf(t);return PAL[(i<0?0:i)%PAL.length];}
var W=1000,L=150,R=60,PW=W-L-R;function X(t){return L+PW*t/H;}
function axis(y){var s='',step=Math.max(1,Math.ceil(H/24));
 for(var t=0;t<=H;t+=step){s+='<line x1="'+X(t)+'" x2="'+X(t)+'" y1="0" y2="'+y+'" stroke="#eee"/>'+
 '<text x="'+X(t)+'" y="'+(y+12)+'" font-size="10" text-anchor="middle">'+t+'</text>';}return s;}
function gantt(p,pi,moved){
 var N=D.nodes.length,rh=Math.max(6,Math.min(18,1400/Math.max(1,N))),top=4,h=top+N*rh+18;
 var per={};p.assigned.forEach(function(a,ai){a[3].forEach(function(n){(per[n]=per[n]||[]).push(ai);});});
 var s='<svg viewBox="0 0 '+W+' '+h+'" class="gantt" data-p="'+pi+'">'+axis(top+N*rh);
 var prev=-1;D.nodes.forEach(function(nd,i){var y=top+i*rh;
  if(nd[1]!==prev){if(i>0)s+='<line x1="0" x2="'+W+'" y1="'+y+'" y2="'+y+'" stroke="#999"/>';
   s+='<text x="'+(W-R+4)+'" y="'+(y+10)+'" font-size="10" font-weight="bold">'+esc(D.regions[nd[1]].id)+'</text>';prev=nd[1];}
  if(rh>=9||i%Math.ceil(9/rh)===0)s+='<text x="'+(L-4)+'" y="'+(y+rh*0.75)+'" font-size="'+Math.min(10,rh)+'" text-anchor="end">'+esc(nd[0])+'</text>';
  nd[3].forEach(function(u){s+='<rect x="'+X(u[0])+'" y="'+y+'" width="'+(X(u[1])-X(u[0]))+'" height="'+rh+'" fill="#ddd"/>';});
  var items=(per[i]||[]).slice().sort(function(a,b){return p.assigned[a][1]-p.assigned[b][1];}),ends=[],lane=[];
  items.forEach(function(ai){var a=p.assigned[ai],k=0;while(k<ends.length&&ends[k]>a[1])k++;ends[k]=a[2];lane.push(k);});
  var nl=Math.max(1,ends.length),lh=(rh-1)/nl;
  items.forEach(function(ai,q){var a=p.assigned[ai],j=D.jobs[a[0]];
   s+='<rect class="job'+(j[3]?' req':'')+(moved&&moved[a[0]]?' moved':'')+'" data-p="'+pi+'" data-a="'+ai+'" data-job="'+esc(j[0])+'" x="'+X(a[1])+'" y="'+(y+0.5+lane[q]*lh)+
   '" width="'+Math.max(0.5,X(Math.min(a[2],H))-X(a[1]))+'" height="'+Math.max(0.5,lh-0.3)+'" fill="'+tierColor(j[1])+'"/>';});
 });
 return s+'</svg>';}
function lines(series,colors,height,label,dashed){
 var mx=0,mn=0;series.forEach(function(v){if(v)v.forEach(function(x){mx=Math.max(mx,x);mn=Math.min(mn,x);});});
 if(mx===mn)mx=mn+1;var s='<svg viewBox="0 0 '+W+' '+(height+18)+'">'+axis(height);
 function Y(v){return height-2-(height-6)*(v-mn)/(mx-mn);}
 series.forEach(function(v,i){if(!v)return;var pts='';for(var t=0;t<H;t++){pts+=X(t)+','+Y(v[t])+' '+X(t+1)+','+Y(v[t])+' ';}
  s+='<polyline fill="none" stroke="'+colors[i]+'" stroke-width="1.5"'+(dashed&&dashed[i]?' stroke-dasharray="5,3"':'')+' points="'+pts+'"/>';});
 s+='<text x="4" y="12" font-size="11">'+esc(label)+'</text><text x="'+(L-4)+'" y="'+Y(mx)+'" font-size="10" text-anchor="end" dy="8">'+num(mx)+'</text>'+
 '<text x="'+(L-4)+'" y="'+Y(mn)+'" font-size="10" text-anchor="end">'+num(mn)+'</text>';return s+'</svg>';}
function table(head,rows){return '<table><tr>'+head.map(function(h){return '<th>'+esc(h)+'</th>';}).join('')+'</tr>'+
 rows.map(function(r){return '<tr>'+r.map(function(c){return '<td>'+esc(c)+'</td>';}).join('')+'</tr>';}).join('')+'</table>';}
function render(){
 var P=D.plans,n=P.length,out='',moved=null;
 if(D.moved){moved={};D.moved.forEach(function(m){moved[m[0]]=1;});}
 function cols(f){return '<div class="cols" style="--n:'+n+'">'+P.map(f).join('')+'</div>';}
 out+=cols(function(p){return '<div><h2>'+esc(p.label)+': '+esc(p.solver)+', status '+esc(p.status)+(p.interrupted?' (interrupted)':'')+'</h2>'+
  (p.fallback?'<div class="small">fallback: '+esc(p.fallback)+'</div>':'')+
  table(['metric','value'],p.metrics.map(function(m){return [m[0]+(m[2]?' ('+m[2]+')':''),num(m[1])];}))+
  '<div class="small">solve seconds: '+num(p.seconds)+'</div></div>';});
 out+='<h2>Bound and gap per stage</h2>'+cols(function(p){return '<div>'+table(['stage','value','bound','gap'],
  p.stages.map(function(s){return [s[0],num(s[1]),num(s[2]),pct(s[3])];}))+'</div>';});
 out+='<h2>Gantt chart by node and region</h2><div class="small">'+D.tiers.map(function(t){return '<span style="color:'+tierColor(t)+'">&#9632;</span> priority '+t;}).join(' &nbsp; ')+
  ' &nbsp; thick edge: required'+(moved?'; red edge: moved between the plans':'')+'; grey: unavailable. Hover a bar for details.</div>';
 out+=cols(function(p,pi){return '<div>'+gantt(p,pi,moved)+'</div>';});
 out+='<h2>Facility power by region (dashed: cap)</h2>';
 D.regions.forEach(function(r,g){var ser=P.map(function(p){return p.power[g];}),c=P.map(function(_,i){return i?'#555':RC[g%10];}),d=P.map(function(_,i){return i>0;});
  if(r.cap){ser.push(r.cap);c.push('#d62728');d.push(true);}
  var e=P.map(function(p){return num(p.by_region[g][1])+' kWh, '+num(p.by_region[g][2])+' kg';}).join(' | ');
  out+=lines(ser,c,70,r.id+' kW'+(n>1?' (grey dashed: '+P[1].label+')':'')+': '+e);});
 out+=lines(D.regions.map(function(r){return r.price;}),D.regions.map(function(_,g){return RC[g%10];}),90,'price per kWh by region');
 out+=lines(D.regions.map(function(r){return r.carbon;}),D.regions.map(function(_,g){return RC[g%10];}),90,'carbon g/kWh by region');
 out+='<div class="small">'+D.regions.map(function(r,g){return '<span style="color:'+RC[g%10]+'">&#9632;</span> '+esc(r.id);}).join(' &nbsp; ')+'</div>';
 out+='<h2>Unplaced jobs</h2>'+cols(function(p){return '<div>'+(p.unplaced.length?table(['job','priority','reason'],
  p.unplaced.map(function(u){var j=D.jobs[u[0]];return [j[0],j[1],u[1]];})):'<div class="small">none</div>')+'</div>';});
 if(D.moved){out+='<h2>Moved jobs ('+D.moved.length+')</h2>'+(D.moved.length?table(['job',P[0].label,P[1].label],
  D.moved.map(function(m){return [D.jobs[m[0]][0],m[1],m[2]];})):'<div class="small">none: the plans place every job alike</div>');}
 document.getElementById('app').innerHTML=out;
 var tip=document.getElementById('tip');
 document.addEventListener('mousemove',function(ev){var t=ev.target;
  if(!t.classList||!t.classList.contains('job')){tip.style.display='none';return;}
  var p=P[+t.dataset.p],a=p.assigned[+t.dataset.a],j=D.jobs[a[0]];
  tip.textContent='job '+j[0]+'\npriority '+j[1]+(j[3]?', required':'')+', value '+num(j[5])+'\ndemand '+(j[2]||'-')+' x '+j[4]+' replica(s)\nslots '+a[1]+' - '+a[2]+
   '\nnodes '+a[3].map(function(k){return D.nodes[k][0];}).join(', ')+'\nenergy '+num(a[4])+' kWh\ncost '+num(a[5])+'\ncarbon '+num(a[6])+' kg';
  tip.style.display='block';tip.style.left=(ev.clientX+12)+'px';tip.style.top=(ev.clientY+12)+'px';});
 document.body.setAttribute('data-rendered','1');
 document.body.setAttribute('data-render-ms',String(Math.round(performance.now())));
}
try{render();}catch(e){document.body.setAttribute('data-error',String(e&&e.stack||e));
 document.getElementById('app').innerHTML='<pre class="err">'+esc(e&&e.stack||e)+'</pre>';throw e;}
})();
