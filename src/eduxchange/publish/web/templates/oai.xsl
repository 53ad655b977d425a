<?xml version="1.0" encoding="UTF-8"?>
<!--
  Renders eduxchange's OAI-PMH 2.0 responses as readable pages. Named by every response's
  xml-stylesheet processing instruction (run by the browser), and run on the server for
  browsers that ask for HTML (eduxchange.web.pages.oai_html). XSLT 1.0, no external resources.
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:oai="http://www.openarchives.org/OAI/2.0/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:lom="http://ltsc.ieee.org/xsd/LOM"
    exclude-result-prefixes="oai dc lom">
  <xsl:output method="html" encoding="UTF-8" indent="no"/>

  <xsl:template match="/">
    <html lang="en">
      <head>
        <meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>OAI-PMH <xsl:value-of select="oai:OAI-PMH/oai:request/@verb"/></title>
        <style>
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1b}
header{background:#0b3d6b;color:#fff;padding:.6rem 1rem}
header a{color:#fff}
main{max-width:60rem;margin:0 auto;padding:0 1rem 2rem}
h1{font-size:1.5rem;margin:1rem 0 .4rem}
h2{font-size:1.15rem;margin:1.2rem 0 .3rem}
a{color:#0b5cad}
.muted{color:#545454;font-size:.9rem}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;background:#f3f6f9;padding:0 .2rem;overflow-wrap:anywhere}
nav ul{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.3rem 1rem}
ol.records{padding-inline-start:1.4rem}
ol.records li{margin:.6rem 0}
.title{font-weight:600}
dl{display:grid;grid-template-columns:minmax(8rem,max-content) 1fr;gap:.3rem 1rem}
dt{font-weight:600;color:#545454}
dd{margin:0;overflow-wrap:anywhere}
.error{background:#fbe4e4;color:#a4161a;padding:.5rem .8rem;border-radius:4px}
.next{display:inline-block;margin-top:1rem;background:#0b5cad;color:#fff;padding:.4rem 1rem;border-radius:4px;text-decoration:none}
@media (max-width:34rem){dl{grid-template-columns:1fr}}
        </style>
      </head>
      <body>
        <header><a href="./">eduxchange</a> · OAI-PMH 2.0</header>
        <main>
          <xsl:apply-templates select="oai:OAI-PMH"/>
        </main>
      </body>
    </html>
  </xsl:template>

  <xsl:template match="oai:OAI-PMH">
    <h1>OAI-PMH: <xsl:value-of select="oai:request/@verb"/></h1>
    <p class="muted">
      <xsl:value-of select="oai:responseDate"/> · <code><xsl:value-of select="oai:request"/></code>
    </p>
    <nav aria-label="verbs">
      <ul>
        <li><a href="oai?verb=Identify">Identify</a></li>
        <li><a href="oai?verb=ListMetadataFormats">ListMetadataFormats</a></li>
        <li><a href="oai?verb=ListSets">ListSets</a></li>
        <li><a href="oai?verb=ListRecords&amp;metadataPrefix=oai_dc">ListRecords</a></li>
        <li><a href="oai?verb=ListIdentifiers&amp;metadataPrefix=oai_dc">ListIdentifiers</a></li>
      </ul>
    </nav>
    <xsl:apply-templates select="oai:error"/>
    <xsl:apply-templates select="oai:Identify|oai:ListMetadataFormats|oai:ListSets|oai:ListRecords|oai:ListIdentifiers|oai:GetRecord"/>
  </xsl:template>

  <xsl:template match="oai:error">
    <p class="error" role="alert"><strong><xsl:value-of select="@code"/></strong>: <xsl:value-of select="."/></p>
  </xsl:template>

  <xsl:template match="oai:Identify">
    <dl>
      <xsl:for-each select="*">
        <dt><xsl:value-of select="local-name()"/></dt>
        <dd><xsl:value-of select="."/></dd>
      </xsl:for-each>
    </dl>
  </xsl:template>

  <xsl:template match="oai:ListMetadataFormats">
    <dl>
      <xsl:for-each select="oai:metadataFormat">
        <dt><a href="oai?verb=ListRecords&amp;metadataPrefix={oai:metadataPrefix}"><xsl:value-of select="oai:metadataPrefix"/></a></dt>
        <dd><code><xsl:value-of select="oai:metadataNamespace"/></code></dd>
      </xsl:for-each>
    </dl>
  </xsl:template>

  <xsl:template match="oai:ListSets">
    <ul>
      <xsl:for-each select="oai:set">
        <li><a href="oai?verb=ListRecords&amp;metadataPrefix=oai_dc&amp;set={oai:setSpec}"><xsl:value-of select="oai:setName"/></a>
          <xsl:text> </xsl:text><code><xsl:value-of select="oai:setSpec"/></code></li>
      </xsl:for-each>
    </ul>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template match="oai:ListRecords|oai:GetRecord">
    <ol class="records">
      <xsl:for-each select="oai:record">
        <li>
          <xsl:call-template name="title"/>
          <xsl:apply-templates select="oai:header"/>
        </li>
      </xsl:for-each>
    </ol>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template match="oai:ListIdentifiers">
    <ol class="records">
      <xsl:for-each select="oai:header">
        <li><xsl:apply-templates select="."/></li>
      </xsl:for-each>
    </ol>
    <xsl:apply-templates select="oai:resumptionToken"/>
  </xsl:template>

  <xsl:template name="title">
    <xsl:variable name="dc" select="oai:metadata//dc:title[1]"/>
    <xsl:variable name="lom" select="oai:metadata//lom:general/lom:title/lom:string[1]"/>
    <xsl:variable name="description" select="oai:metadata//dc:description[1]|oai:metadata//lom:general/lom:description/lom:string[1]"/>
    <div class="title" dir="auto">
      <xsl:choose>
        <xsl:when test="$dc"><xsl:value-of select="$dc"/></xsl:when>
        <xsl:when test="$lom"><xsl:value-of select="$lom"/></xsl:when>
        <xsl:otherwise><xsl:value-of select="oai:header/oai:identifier"/></xsl:otherwise>
      </xsl:choose>
    </div>
    <xsl:if test="$description">
      <div dir="auto"><xsl:value-of select="substring($description[1], 1, 300)"/></div>
    </xsl:if>
  </xsl:template>

  <xsl:template match="oai:header">
    <div class="muted">
      <xsl:if test="@status = 'deleted'"><strong>deleted · </strong></xsl:if>
      <a href="oai?verb=GetRecord&amp;metadataPrefix=oai_dc&amp;identifier={oai:identifier}"><code><xsl:value-of select="oai:identifier"/></code></a>
      <xsl:text> · </xsl:text><xsl:value-of select="oai:datestamp"/>
      <xsl:for-each select="oai:setSpec"><xsl:text> · </xsl:text><code><xsl:value-of select="."/></code></xsl:for-each>
    </div>
  </xsl:template>

  <xsl:template match="oai:resumptionToken">
    <xsl:if test="string(.) != ''">
      <a class="next" href="oai?verb={/oai:OAI-PMH/oai:request/@verb}&amp;resumptionToken={.}">Next page →</a>
    </xsl:if>
    <p class="muted">
      <xsl:if test="@cursor"><xsl:value-of select="@cursor"/> / </xsl:if>
      <xsl:value-of select="@completeListSize"/>
    </p>
  </xsl:template>
</xsl:stylesheet>
